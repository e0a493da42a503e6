/**
 * A rotation failed for good (a final error, or its last attempt): roll back what it did, or — refused in
 * plan, before anything happened — record the refusal; then count it and alert once. Written once, used
 * by the inline run (run.ts) and the rotate job (jobs/rotate.ts).
 *
 * All of it happens under the credential's lock, and the alert only while that lease still holds: a
 * process whose rotation was taken over by another (it stalled past its lease) finds the lock held or the
 * record finished, and records, undoes and alerts nothing.
 */
import { type CertrotorError, isCertrotorError } from "../errors.js";
import { fencedJournal, isFinished, type RotationRecord } from "../journal/types.js";
import type { RotationDeps, Trigger } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { acquireRotationLock } from "./lock.js";
import { auditFailure, type RollbackResult, undoRotation } from "./rollback.js";

export interface FailureReport {
  credential: ResolvedCredential;
  rotationId: string;
  error: CertrotorError;
  /** The rotation's record after the rollback; null for a refusal in plan (it never began). */
  record: RotationRecord | null;
  /** Present when the rotation had begun and was rolled back (or had promoted: nothing undone). */
  rollback?: RollbackResult;
}

export interface FailureHandlers {
  /** Raises the failure's alert (alerts/rotation-alerts.ts alertRotationFailed), under the lease. */
  alert?(report: FailureReport): Promise<void>;
  /** Counts the outcome (observability/metrics.ts recordRotation). */
  count?(credentialId: string, status: "failed" | "rolled-back", code: string): void;
}

export type FailureResult =
  | { status: "recorded"; report: FailureReport }
  /** Another process holds the credential or finished this rotation: nothing was recorded or alerted. */
  | { status: "superseded"; reason: string };

export async function failRotation(
  deps: RotationDeps,
  credential: ResolvedCredential,
  rotationId: string,
  trigger: Trigger,
  error: CertrotorError,
  handlers: FailureHandlers = {},
): Promise<FailureResult> {
  let lock: Awaited<ReturnType<typeof acquireRotationLock>>;
  try {
    lock = await acquireRotationLock(deps, credential.id);
  } catch (thrown) {
    if (!isCertrotorError(thrown, "LOCKED")) throw thrown;
    deps.logger.warn(
      { rotationId, err: { code: error.code } },
      "failure not recorded: another process holds the credential",
    );
    return { status: "superseded", reason: thrown.message };
  }
  try {
    const journal = fencedJournal(deps.journal, lock.lease);
    const fenced = { ...deps, journal };
    const existing = await journal.get(rotationId);
    if (existing && isFinished(existing.status)) {
      deps.logger.warn(
        { rotationId, status: existing.status },
        "failure not recorded: the rotation already finished",
      );
      return { status: "superseded", reason: `rotation ${rotationId} already ${existing.status}` };
    }
    let report: FailureReport;
    if (existing) {
      const rollback = await undoRotation(fenced, credential, rotationId, error, lock);
      report = { credential, rotationId, error, record: rollback.record, rollback };
    } else {
      // refused in plan: nothing happened, nothing to undo; the refusal still goes in the audit trail
      await auditFailure(fenced, credential.id, rotationId, trigger, error, "plan");
      report = { credential, rotationId, error, record: null };
    }
    handlers.count?.(
      credential.id,
      report.record?.status === "rolled-back" ? "rolled-back" : "failed",
      error.code,
    );
    await lock.lease.check();
    await handlers.alert?.(report);
    return { status: "recorded", report };
  } finally {
    await lock.release();
  }
}
