/**
 * The end of a rotation whose material is current: retire (now, or scheduled after the grace period) and
 * done. Shared by the attempt (saga.ts) and by the retire-due sweep (retire-due.ts), both holding the
 * credential's lock with the journal fenced by it.
 */
import { CertrotorError } from "../errors.js";
import type { Promoted, RotationOutcome } from "./context.js";
import { type Attempt, recordAudit, runStep } from "./attempt.js";
import { type RetireResult, retire } from "./steps/retire.js";

export async function finishRotation(attempt: Attempt, rotation: Promoted): Promise<RotationOutcome> {
  const { deps, rotationId } = attempt;
  let record = rotation.record;
  attempt.record = record;
  const retireDueAt = record.retireDueAt
    ? new Date(record.retireDueAt)
    : new Date(deps.now().getTime() + rotation.credential.policy.gracePeriod);
  const result: RetireResult = await runStep(attempt, "retire", async (stepDeps) => {
    if (!record.retireDueAt) {
      record = await stepDeps.journal.update(rotationId, { retireDueAt: retireDueAt.toISOString() });
      attempt.record = record;
      await recordAudit(attempt, "retire-scheduled", { retireDueAt: retireDueAt.toISOString() });
    }
    return retire(stepDeps, rotation, retireDueAt);
  });
  if (result.status === "wait") {
    record = await deps.journal.update(rotationId, { status: "retire-due" });
    return {
      status: "retire-due",
      record,
      retireDueAt: result.until,
      ...(result.task ? { task: result.task } : {}),
    };
  }
  if (result.status === "consumers-on-old-cert") {
    const error = new CertrotorError(
      "CONSUMERS_ON_OLD_CERT",
      `credential "${rotation.credential.id}": the old certificate was still used at ${result.lastUsedAt.toISOString()}, past the retire bound; it stays bound`,
      {
        hint: "find the consumers still using the old certificate and make them reload the current material",
      },
    );
    record = await deps.journal.update(rotationId, {
      step: "done",
      status: "succeeded",
      errorCode: error.code,
      errorMessage: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      finishedAt: deps.now().toISOString(),
    });
    return { status: "consumers-on-old-cert", record };
  }
  if (rotation.oldFingerprint) {
    const fingerprint = rotation.oldFingerprint;
    const task: Record<string, string> = result.task ? { taskId: result.task.id } : {};
    if (result.how === "skipped")
      await recordAudit(attempt, "unbind-skipped", {
        fingerprint,
        reason: "registration none: the bank trusts the issuing CA",
      });
    else if (result.how === "kept")
      await recordAudit(attempt, "task-closed", { fingerprint, ...task, status: "cancelled" });
    else
      await recordAudit(attempt, "unbound", {
        fingerprint,
        ...(result.how === "confirmed" || result.how === "operator" ? { by: result.how, ...task } : {}),
      });
  }
  record = await runStep(attempt, "done", (stepDeps) =>
    stepDeps.journal.update(rotationId, { status: "succeeded", finishedAt: deps.now().toISOString() }),
  );
  attempt.record = record;
  return { status: "succeeded", record };
}
