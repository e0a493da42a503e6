/**
 * The `notify` job: deliver one alert. Until alert channels are configured it is written to the log
 * (the alerting port replaces this with webhook, Slack, PagerDuty and email deliveries).
 */
import type { Job } from "bullmq";
import { notifyJobData } from "../src/queue/payloads.js";
import type { Runtime } from "../src/runtime.js";

export function createNotifyProcessor(runtime: Runtime) {
  return async (job: Job): Promise<{ delivered: string[] }> => {
    const alert = notifyJobData.parse(job.data);
    runtime.logger.warn({ alert }, `alert: ${alert.kind} for ${alert.credentialId}`);
    return { delivered: ["log"] };
  };
}
