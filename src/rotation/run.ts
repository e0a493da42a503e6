/**
 * Runs a rotation to its end without a queue (`rotate --inline`, the demo): attempts with expiry-aware
 * backoff, then rollback and a recorded failure when the attempts are spent or the error is final.
 * The queue worker does the same with BullMQ attempts instead of this loop.
 */
import { setTimeout as delay } from "node:timers/promises";
import { inspectCertificate } from "../crypto/index.js";
import { type CertrotorError, isCertrotorError, toCertrotorError } from "../errors.js";
import { retryDelay } from "./backoff.js";
import type { RotationDeps, RotationOutcome, Trigger } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { type FailureHandlers, failRotation } from "./fail.js";
import type { RollbackResult } from "./rollback.js";
import { newRotationId, runRotationAttempt } from "./saga.js";

export type RunResult =
  | (RotationOutcome & { rotationId: string; attempts: number })
  | {
      status: "failed";
      rotationId: string;
      attempts: number;
      error: CertrotorError;
      rollback: RollbackResult;
    };

export interface RunOptions {
  trigger: Trigger;
  force?: boolean;
  rotationId?: string;
  /** Waits between attempts; replaced in tests to observe the delays. */
  wait?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; delayMs: number; error: CertrotorError }) => void;
  /** Alert and count a rotation that failed for good (fail.ts), as the rotate job does. */
  onFailure?: FailureHandlers;
}

/** The rotation to resume: an unfinished one of this credential (a crashed or parked run), else a new id. */
export async function rotationIdFor(deps: RotationDeps, credentialId: string): Promise<string> {
  const latest = await deps.journal.latest(credentialId);
  return latest?.status === "running" || latest?.status === "awaiting-registration"
    ? latest.rotationId
    : newRotationId();
}

/** Decides whether a failed attempt ends the rotation: final errors do, and so do spent attempts. */
export function nextDelay(
  error: CertrotorError,
  attempt: number,
  credential: ResolvedCredential,
  notAfter: Date,
  now: Date,
): number | null {
  if (!error.retryable) return null;
  return retryDelay({ attempt, policy: credential.policy, notAfter, now });
}

export async function runRotation(
  deps: RotationDeps,
  credential: ResolvedCredential,
  options: RunOptions,
): Promise<RunResult> {
  const rotationId = options.rotationId ?? (await rotationIdFor(deps, credential.id));
  const wait = options.wait ?? ((ms: number) => delay(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await runRotationAttempt(deps, credential, {
        rotationId,
        trigger: options.trigger,
        ...(options.force ? { force: true } : {}),
      });
      return { ...outcome, rotationId, attempts: attempt };
    } catch (thrown) {
      const error = toCertrotorError(thrown);
      // another rotation runs, or ours was taken over while this process stalled: do nothing more
      if (isCertrotorError(error, "LOCKED") || isCertrotorError(error, "LOCK_LOST")) throw error;
      const notAfter = await currentNotAfter(deps, credential);
      const delayMs = nextDelay(error, attempt, credential, notAfter, deps.now());
      if (delayMs === null) {
        const failed = await failRotation(
          deps,
          credential,
          rotationId,
          options.trigger,
          error,
          options.onFailure,
        );
        if (failed.status === "superseded" || !failed.report.rollback) throw error; // refused in plan
        return { status: "failed", rotationId, attempts: attempt, error, rollback: failed.report.rollback };
      }
      options.onRetry?.({ attempt, delayMs, error });
      await wait(delayMs);
    }
  }
}

async function currentNotAfter(deps: RotationDeps, credential: ResolvedCredential): Promise<Date> {
  try {
    const current = await deps.store.readCurrent(credential.ref);
    return inspectCertificate(current.material.certPem).notAfter;
  } catch {
    return deps.now(); // unknown: treat as expiring now, which keeps retries short
  }
}
