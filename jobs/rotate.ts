/**
 * The `rotate` job: one attempt of the saga per job attempt. BullMQ retries with the expiry-aware backoff;
 * after the last attempt (or a final error) the rotation fails for good (src/rotation/fail.ts: rolled
 * back, counted, alerted once per episode); a success resolves the credential's open episodes.
 * A LOCKED credential (another rotation of it runs, or a stalled predecessor's lease has not run out) is
 * looked at again once that lease would end, without spending an attempt. A job whose lease was lost
 * (this worker stalled past it and another took over) stops: it records, undoes and alerts nothing.
 */
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import {
  alertRotationOutcome,
  cutOverAlerts,
  failureAlert,
  type RotationAlertDeps,
} from "../src/alerts/rotation-alerts.js";
import { type CertrotorError, toCertrotorError } from "../src/errors.js";
import type { WorkerMetrics } from "../src/observability/metrics.js";
import { stepMetrics } from "../src/observability/step-timer.js";
import { PARKED_STEP } from "../src/queue/follow.js";
import type { Producer } from "../src/queue/producer.js";
import { type RotateJobData, rotateJobData } from "../src/queue/payloads.js";
import type { RotationObserver } from "../src/rotation/context.js";
import { jobReference, type ResolvedCredential } from "../src/rotation/credentials.js";
import { failRotation } from "../src/rotation/fail.js";
import { runRotationAttempt } from "../src/rotation/saga.js";
import type { Runtime } from "../src/runtime.js";

/** Bounds of the wait of a LOCKED job: until the holder's lease would end, at least 250 ms, at most 5 s. */
export const LOCKED_RETRY_MS = { min: 250, max: 5_000 } as const;

/** A lease lost to another worker: looked at again soon, in case this worker still owns the job. */
export const LOCK_LOST_RETRY_MS = 1_000;

export interface RotateResult {
  status: string;
  rotationId: string;
  newFingerprint?: string;
  retireDueAt?: string;
}

/** The job's progress follows the saga's steps (`rotate --wait` prints them). */
function jobProgress(job: Job): RotationObserver {
  return async (event) => {
    if (event.kind === "step-started") await job.updateProgress({ step: event.step, at: Date.now() });
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

function lockedDelay(error: CertrotorError): number {
  const left = Number(error.details.expiresInMs ?? LOCKED_RETRY_MS.max);
  return Math.min(LOCKED_RETRY_MS.max, Math.max(LOCKED_RETRY_MS.min, left + 100));
}

/** Moves the job back to delayed (when this worker still owns it) without spending an attempt. */
async function later(job: Job, token: string | undefined, ms: number): Promise<never> {
  if (!token) throw new Error("rotate job: no token to delay the job with");
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

export function createRotateProcessor(runtime: Runtime, producer: Producer, metrics?: WorkerMetrics) {
  const alerts = alertDeps(runtime, producer);
  return async (job: Job, token?: string): Promise<RotateResult> => {
    const data: RotateJobData = rotateJobData.parse(job.data);
    let credential: ResolvedCredential | undefined;
    let error: CertrotorError;
    try {
      const resolved = await runtime.credential(data.credentialId, data.discovery);
      credential = data.unbindStale
        ? { ...resolved, policy: { ...resolved.policy, unbindStaleOwnCerts: true } }
        : resolved;
      const base = runtime.depsFor(credential);
      const deps = {
        ...base,
        logger: base.logger.child({ jobId: job.id }),
        observers: [
          ...(base.observers ?? []),
          jobProgress(job),
          cutOverAlerts(alerts, credential),
          ...(metrics ? [stepMetrics(metrics)] : []),
        ],
      };
      const outcome = await runRotationAttempt(deps, credential, {
        rotationId: data.rotationId,
        trigger: data.trigger,
        force: data.trigger !== "schedule",
      });
      if (outcome.status === "finished") return { status: outcome.status, rotationId: data.rotationId };
      if (outcome.status === "awaiting-registration") {
        // parked on a human task: alert it (once per episode), free the lock (done) and this worker
        // slot, and look again after the task's backoff without spending an attempt
        await alertRotationOutcome(alerts, {
          credential,
          store: deps.store,
          rotationId: data.rotationId,
          outcome,
        });
        // `rotate --wait` ends here, saying which task the rotation waits on
        await job.updateProgress({ step: PARKED_STEP, taskId: outcome.task.id, at: Date.now() });
        return later(job, token, Math.max(0, outcome.checkAgainAt.getTime() - runtime.now().getTime()));
      }
      metrics?.recordRotation(credential.id, outcome.status, "", runtime.now());
      if (outcome.status === "not-due") return { status: outcome.status, rotationId: data.rotationId };
      // promoted and verified: the credential's failure episodes are over
      await alertRotationOutcome(alerts, {
        credential,
        store: deps.store,
        rotationId: data.rotationId,
        outcome,
      });
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
    }
    if (error.code === "LOCKED") return later(job, token, lockedDelay(error));
    // the saga logged it once; another worker owns the rotation now: no rollback, no record, no alert
    if (error.code === "LOCK_LOST") return later(job, token, LOCK_LOST_RETRY_MS);
    const maxAttempts = job.opts.attempts ?? 1;
    const final = !error.retryable || job.attemptsMade + 1 >= maxAttempts;
    if (final && !credential) throw new UnrecoverableError(error.toSafeString()); // unknown credential
    if (final && credential) {
      const deps = runtime.depsFor(credential);
      await failRotation(deps, credential, data.rotationId, data.trigger, error, {
        count: (id, status, code) => metrics?.recordRotation(id, status, code),
        alert: failureAlert(alerts, deps.store),
      });
      throw new UnrecoverableError(error.toSafeString());
    }
    throw new Error(error.toSafeString());
  };
}
