/**
 * The `notify` job: deliver one alert to the channels of its credential. BullMQ retries the job with
 * backoff (alerts.deliveryAttempts / deliveryBackoff); the job's progress remembers which channels
 * accepted it, so a retry sends only to those that failed. After the last attempt a failing channel is
 * given up on (logged, counted) and the job fails. Rotations never wait on this job.
 */
import { type Job, UnrecoverableError } from "bullmq";
import { alertFromJob } from "../src/alerts/build.js";
import { type DeliveryRecorder, deliverAttempt, deliveryState } from "../src/alerts/deliver.js";
import { createChannels, routeChannels } from "../src/alerts/index.js";
import type { Channel } from "../src/alerts/types.js";
import { notifyJobData } from "../src/queue/payloads.js";
import { findConfigured } from "../src/rotation/credentials.js";
import type { Runtime } from "../src/runtime.js";

export interface NotifyOptions {
  /** The channels by name (built from config when absent). */
  channels?: ReadonlyMap<string, Channel>;
  recorder?: DeliveryRecorder;
}

export interface NotifyResult {
  delivered: string[];
  abandoned: string[];
}

export function createNotifyProcessor(runtime: Runtime, options: NotifyOptions = {}) {
  const channels =
    options.channels ??
    createChannels(runtime.config.alerts, {
      logger: runtime.logger,
      timeoutMs: runtime.config.alerts.timeout,
    });
  return async (job: Job): Promise<NotifyResult> => {
    const data = notifyJobData.parse(job.data);
    const alert = alertFromJob(data);
    const routed = routeChannels(
      channels,
      data.channels ?? findConfigured(runtime.config, data.credentialId)?.alerts,
    );
    const logger = runtime.logger.child({ jobId: job.id, credentialId: data.credentialId });
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const result = await deliverAttempt(alert, routed, deliveryState(job.progress), {
      last,
      logger,
      ...(options.recorder ? { recorder: options.recorder } : {}),
    });
    if (result.failures.length > 0) await job.updateProgress({ ...result.state });
    const reasons = result.failures.map((f) => f.error.toSafeString()).join("; ");
    if (result.retry) throw new Error(reasons);
    if (result.gaveUp) throw new UnrecoverableError(`alert given up on some channels: ${reasons}`);
    return result.state;
  };
}
