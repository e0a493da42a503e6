/**
 * Undo what is safe to undo after a rotation failed for good: unbind the new cert if it was never
 * promoted, drop the pending version, keep the old material current. Idempotent and safe to repeat.
 * Every effect is checked against the lease just before it is made (fence.ts).
 */
import { requireSlots } from "../bank/capabilities.js";
import { type CertrotorError, isCertrotorError } from "../errors.js";
import { isFinished, type RotationRecord, type RotationTrigger } from "../journal/types.js";
import type { HeldLock, RotationDeps } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { hookAt } from "./attempt.js";
import { fenced } from "./fence.js";
import { certificateAccepted, updateTask } from "./tasks.js";
import { taskId } from "../tasks/types.js";
import type { Material, PendingMaterial } from "../stores/types.js";

export interface RollbackResult {
  /** The rotation had already promoted: nothing was undone (the new material is current). */
  promoted: boolean;
  unbound?: string;
  droppedPending: boolean;
  record: RotationRecord | null;
}

/**
 * The audit event of a rotation that failed for good, with the step it stopped at. Also written for a
 * rotation refused before it began (in plan: SLOTS_FULL, an unreadable store), which has no record.
 */
export async function auditFailure(
  deps: Pick<RotationDeps, "journal" | "now">,
  credentialId: string,
  rotationId: string,
  actor: RotationTrigger,
  failure: CertrotorError,
  step?: string,
): Promise<void> {
  await deps.journal.audit({
    at: deps.now().toISOString(),
    credentialId,
    rotationId,
    action: "failed",
    actor,
    details: { errorCode: failure.code, ...(step ? { step } : {}) },
  });
}

/**
 * A cut-over rolled back at a single-slot bank: the old (still current) certificate is bound again, so
 * the outage ends; recorded in the journal. Returns its fingerprint when it had to be rebound.
 */
async function rebindAfterCutOver(
  deps: RotationDeps,
  credential: ResolvedCredential,
  record: RotationRecord,
  current: Material,
  holder: { lock: HeldLock },
): Promise<string | undefined> {
  if (!record.outageStartedAt) return undefined;
  const slots = await requireSlots(deps.bank).listSlots(current.clientId || credential.clientId);
  let rebound: string | undefined;
  if (!slots.some((slot) => slot.fingerprint === current.fingerprint)) {
    await fenced(holder, () =>
      requireSlots(deps.bank).bind(current.clientId || credential.clientId, current.certPem),
    );
    rebound = current.fingerprint;
  }
  if (!record.outageEndedAt) {
    const endedAt = deps.now();
    await deps.journal.update(record.rotationId, { outageEndedAt: endedAt.toISOString() });
    await deps.journal.audit({
      at: endedAt.toISOString(),
      credentialId: credential.id,
      rotationId: record.rotationId,
      action: "cut-over",
      actor: record.trigger,
      details: {
        fingerprint: current.fingerprint,
        outageMs: Math.max(0, endedAt.getTime() - Date.parse(record.outageStartedAt)),
        restored: "old certificate rebound",
      },
    });
  }
  return rebound;
}

/**
 * At a portal bank: cancels the rotation's open bind task (nobody should bind a certificate that is
 * being rolled back). When the person bound it already (its material gets a token) its key must stay
 * retrievable (invariant 3): true says keep the pending material; it is unbound by hand at the bank.
 */
async function closeBindTask(
  deps: RotationDeps,
  credential: ResolvedCredential,
  rotationId: string,
  lock: HeldLock,
  pending: PendingMaterial | null,
): Promise<boolean> {
  const task = await deps.tasks?.get(taskId(rotationId, "bind-certificate"));
  if (task?.status === "open") {
    await updateTask(deps, { lock, credential }, task, {
      status: "cancelled",
      closedAt: deps.now().toISOString(),
      closedBy: "certrotor",
      note: "the rotation was rolled back",
    });
  }
  if (!pending || !task) return false;
  const clientSecret = pending.material.clientSecret ?? "";
  const { certPem, keyPem } = pending.material;
  return fenced({ lock }, () =>
    certificateAccepted(deps, { certPem, keyPem }, { clientId: task.clientId, clientSecret }),
  ).catch(() => true); // unknown: keeping a key is safe, dropping a bound one is not
}

/**
 * The rollback itself, for a caller holding the credential's lock (`lock`) with `deps.journal` fenced by
 * it. The new cert is unbound before its key is dropped, so a bound cert never loses its key
 * (invariant 3).
 */
export async function undoRotation(
  deps: RotationDeps,
  credential: ResolvedCredential,
  rotationId: string,
  failure: CertrotorError,
  lock: HeldLock,
): Promise<RollbackResult> {
  const holder = { lock };
  const current = await deps.store.readCurrent(credential.ref).catch((error: unknown) => {
    if (isCertrotorError(error, "NOT_FOUND")) return null;
    throw error;
  });
  const record = await deps.journal.get(rotationId);
  // a finished record never changes (a leftover whose record was closed before its pending was dropped)
  const open = record !== null && !isFinished(record.status);
  await auditFailure(deps, credential.id, rotationId, record?.trigger ?? "inline", failure, record?.step);
  if (current?.material.rotationId === rotationId) {
    const updated = open
      ? await deps.journal.update(rotationId, {
          status: "failed",
          errorCode: failure.code,
          errorMessage: failure.message,
        })
      : record;
    return { promoted: true, droppedPending: false, record: updated };
  }
  const pending = await deps.store.readPending(credential.ref);
  const ours = pending?.rotationId === rotationId ? pending : null;
  const newFingerprint = ours?.material.fingerprint ?? record?.newFingerprint;
  const clientId = current?.material.clientId || credential.clientId;
  let unbound: string | undefined;
  let keepPending = false;
  const registration = deps.bankProfile?.registration ?? "api";
  if (newFingerprint && newFingerprint !== current?.material.fingerprint && registration === "api") {
    const slots = await requireSlots(deps.bank).listSlots(clientId);
    if (slots.some((slot) => slot.fingerprint === newFingerprint)) {
      await fenced(holder, () => requireSlots(deps.bank).unbind(clientId, newFingerprint));
      unbound = newFingerprint;
    }
  }
  const rebound =
    registration === "api" && deps.bankProfile?.maxSlots === 1 && current && open && record
      ? await rebindAfterCutOver(deps, credential, record, current.material, holder)
      : undefined;
  if (rebound) await hookAt(deps, { credentialId: credential.id, rotationId }, "rollback:rebound");
  if (registration === "manual") keepPending = await closeBindTask(deps, credential, rotationId, lock, ours);
  if (ours && !keepPending) await fenced(holder, () => deps.store.dropPending(credential.ref, rotationId));
  const at = deps.now().toISOString();
  await deps.journal.audit({
    at,
    credentialId: credential.id,
    rotationId,
    action: "rolled-back",
    actor: record?.trigger ?? "inline",
    details: {
      errorCode: failure.code,
      ...(unbound ? { unbound } : {}),
      ...(rebound ? { rebound } : {}),
      droppedPending: ours !== null && !keepPending,
    },
  });
  const updated = open
    ? await deps.journal.update(rotationId, {
        status: "rolled-back",
        errorCode: failure.code,
        errorMessage: failure.message,
        ...(failure.hint ? { hint: failure.hint } : {}),
        finishedAt: at,
      })
    : record;
  return {
    promoted: false,
    ...(unbound ? { unbound } : {}),
    droppedPending: ours !== null && !keepPending,
    record: updated,
  };
}
