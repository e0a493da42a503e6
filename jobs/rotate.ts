/**
 * The `rotate` job: one attempt of the saga per job attempt. BullMQ retries with the expiry-aware backoff;
 * after the last attempt (or a final error) the rotation is rolled back and its failure episode opened
 * (one alert per episode); a success resolves the credential's open episodes.
 * A LOCKED credential (a stalled predecessor's lease has not run out yet) is retried later without
 * spending an attempt.
 */
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import {
  alertConsumersOnOldCert,
  alertRotationFailed,
  alertRotationSucceeded,
  type RotationAlertDeps,
} from "../src/alerts/rotation-alerts.js";
import { type CertrotorError, isCertrotorError, toCertrotorError } from "../src/errors.js";
import type { WorkerMetrics } from "../src/observability/metrics.js";
import { stepTimer } from "../src/observability/step-timer.js";
import type { Producer } from "../src/queue/producer.js";
import { type RotateJobData, rotateJobData } from "../src/queue/payloads.js";
import type { RotationHooks } from "../src/rotation/context.js";
import { jobReference } from "../src/rotation/credentials.js";
import { auditFailure, rollbackRotation } from "../src/rotation/rollback.js";
import { runRotationAttempt } from "../src/rotation/saga.js";
import type { Runtime } from "../src/runtime.js";

/** How long a LOCKED job waits before it looks again. */
export const LOCKED_RETRY_MS = 5_000;

export interface RotateResult {
  status: string;
  rotationId: string;
  newFingerprint?: string;
  retireDueAt?: string;
}

function progressHooks(job: Job, also?: RotationHooks): RotationHooks {
  return {
    async at(point, state) {
      await also?.at(point, state);
      const [step, phase] = point.split(":");
      if (phase === "start") await job.updateProgress({ step, at: Date.now() });
    },
  };
}

/** Alerts go through the notify queue; episodes make a repeated failure alert once. */
function alertDeps(runtime: Runtime, producer: Producer): RotationAlertDeps {
  return {
    episodes: runtime.episodes,
    sink: producer,
    now: runtime.now,
    logger: runtime.logger,
    notifyOnSuccess: runtime.config.alerts.notifyOnSuccess,
  };
}

async function failForGood(
  runtime: Runtime,
  producer: Producer,
  data: RotateJobData,
  error: CertrotorError,
  metrics: WorkerMetrics | undefined,
): Promise<never> {
  const credential = await runtime.credential(data.credentialId, data.discovery);
  const deps = runtime.depsFor(credential);
  const started = (await deps.journal.get(data.rotationId)) !== null;
  if (started) await rollbackRotation(deps, credential, data.rotationId, error);
  else await auditFailure(deps, credential.id, data.rotationId, data.trigger, error, "plan");
  const record = await deps.journal.get(data.rotationId);
  metrics?.recordRotation(
    credential.id,
    record?.status === "rolled-back" ? "rolled-back" : "failed",
    error.code,
  );
  await alertRotationFailed(alertDeps(runtime, producer), {
    credential,
    store: deps.store,
    rotationId: data.rotationId,
    record,
    error,
  });
  throw new UnrecoverableError(error.toSafeString());
}

export function createRotateProcessor(runtime: Runtime, producer: Producer, metrics?: WorkerMetrics) {
  return async (job: Job, token?: string): Promise<RotateResult> => {
    const data = rotateJobData.parse(job.data);
    const steps = metrics && stepTimer(metrics);
    let error: CertrotorError;
    try {
      const resolved = await runtime.credential(data.credentialId, data.discovery);
      const credential = data.unbindStale
        ? { ...resolved, policy: { ...resolved.policy, unbindStaleOwnCerts: true } }
        : resolved;
      const base = runtime.depsFor(credential);
      const deps = {
        ...base,
        logger: base.logger.child({ jobId: job.id }),
        hooks: progressHooks(job, steps),
      };
      const outcome = await runRotationAttempt(deps, credential, {
        rotationId: data.rotationId,
        trigger: data.trigger,
        force: data.trigger !== "schedule",
      });
      metrics?.recordRotation(credential.id, outcome.status, "", runtime.now());
      if (outcome.status === "not-due") return { status: outcome.status, rotationId: data.rotationId };
      // promoted and verified: the credential's failure episodes are over
      await alertRotationSucceeded(alertDeps(runtime, producer), {
        credential,
        store: deps.store,
        rotationId: data.rotationId,
        status: outcome.status,
      });
      if (outcome.status === "consumers-on-old-cert")
        await alertConsumersOnOldCert(alertDeps(runtime, producer), credential, outcome.record);
      if (outcome.status === "retire-due") {
        await producer.enqueueRetire(
          { ...jobReference(resolved), rotationId: data.rotationId },
          outcome.retireDueAt.getTime() - Date.now(),
        );
      }
      return {
        status: outcome.status,
        rotationId: data.rotationId,
        ...(outcome.record.newFingerprint ? { newFingerprint: outcome.record.newFingerprint } : {}),
        ...(outcome.status === "retire-due" ? { retireDueAt: outcome.retireDueAt.toISOString() } : {}),
      };
    } catch (thrown) {
      error = toCertrotorError(thrown);
    } finally {
      steps?.end();
    }
    if (isCertrotorError(error, "LOCKED") && token) {
      await job.moveToDelayed(Date.now() + LOCKED_RETRY_MS, token);
      throw new DelayedError();
    }
    const maxAttempts = job.opts.attempts ?? 1;
    if (!error.retryable || job.attemptsMade + 1 >= maxAttempts)
      return failForGood(runtime, producer, data, error, metrics);
    throw new Error(error.toSafeString());
  };
}
