/**
 * plan: take the per-credential lock, read the current material, check it is usable, look for pending
 * material (ours from an interrupted attempt, or a leftover), and decide whether to rotate at all.
 */
import { assertKeyMatchesCertificate, inspectCertificate } from "../../crypto/index.js";
import { CertrotorError } from "../../errors.js";
import type { RotationDeps, RotationOutcome, RotationState } from "../context.js";
import { acquireRotationLock } from "../lock.js";
import { decideRenewal } from "../policy.js";
import { undoRotation } from "../rollback.js";
import { slotsToFree } from "./register.js";

/**
 * Pending material of another rotation, found while we hold the lock: a rotation that is not running, e.g.
 * one whose job was lost (failed by the queue's stall limit, or gone with Redis). It never promoted
 * (current is not its material), so it is rolled back as its own failure would be: its cert unbound first,
 * then its key dropped — dropping the key of a cert still bound would break invariant 3 — and its record
 * closed, so it neither holds a slot nor stays "running".
 */
async function rollBackLeftover(deps: RotationDeps, state: RotationState, leftoverId: string): Promise<void> {
  const { credential } = state;
  const failure = new CertrotorError(
    "ROTATION_FAILED",
    `rotation "${leftoverId}" of credential "${credential.id}" was left unfinished; rotation "${state.rotationId}" rolled it back`,
  );
  const undone = await undoRotation(deps, credential, leftoverId, failure);
  deps.logger.warn(
    { staleRotationId: leftoverId, ...(undone.unbound ? { unbound: undone.unbound } : {}) },
    "rolled back the leftover of an unfinished rotation",
  );
}

export async function plan(
  deps: RotationDeps,
  state: RotationState,
  resuming: boolean,
): Promise<RotationOutcome | null> {
  const { credential } = state;
  state.lock = await acquireRotationLock(deps, credential.id);
  const where = `store "${credential.store}" current material of credential "${credential.id}"`;
  const current = await deps.store.readCurrent(credential.ref);
  state.current = current;
  state.currentInfo = inspectCertificate(current.material.certPem);
  state.clientId = current.material.clientId || credential.clientId;

  if (current.material.rotationId === state.rotationId) {
    // promote already happened in an earlier attempt: only retire is left. That attempt may have stopped
    // between promote's two writes (Vault: current, then delete the pending path; AWS: move AWSCURRENT, then
    // AWSPENDING), leaving a pending copy behind: promoting again is idempotent and finishes that cleanup.
    await deps.store.promote(credential.ref, state.rotationId, current.version);
    state.promoted = true;
    return null;
  }
  assertKeyMatchesCertificate(current.material.keyPem, current.material.certPem, where);
  state.oldFingerprint = state.currentInfo.fingerprint;

  let pending = await deps.store.readPending(credential.ref);
  if (pending && pending.rotationId !== state.rotationId) {
    // promoted but stopped before clearing its pending: the same material is current, nothing is lost
    if (pending.rotationId === current.material.rotationId)
      await deps.store.dropPending(credential.ref, pending.rotationId);
    else await rollBackLeftover(deps, state, pending.rotationId);
    pending = null;
  }
  state.pending = pending;
  if (!pending && !resuming && !state.force) {
    const decision = decideRenewal({
      credentialId: credential.id,
      notBefore: state.currentInfo.notBefore,
      notAfter: state.currentInfo.notAfter,
      policy: credential.policy,
      now: deps.now(),
      scheduled: state.trigger === "schedule",
    });
    if (decision.status === "ok")
      return { status: "not-due", message: decision.message, renewAt: decision.renewAt };
    if (decision.status === "due" && state.trigger === "schedule") {
      return { status: "not-due", message: decision.message, renewAt: decision.startAt };
    }
  }
  // read-only pre-flight of register: a credential whose slots are full is refused before anything is made
  if (!pending) {
    await slotsToFree(deps, state, await deps.bank.listSlots(state.clientId));
    await deps.issuer.check();
  }
  return null;
}
