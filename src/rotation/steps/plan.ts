/**
 * plan: take the per-credential lock, read the current material, check it is usable, look for pending
 * material (ours from an interrupted attempt, or a leftover), and decide whether to rotate at all.
 */
import { assertKeyMatchesCertificate, inspectCertificate } from "../../crypto/index.js";
import type { RotationDeps, RotationOutcome, RotationState } from "../context.js";
import { acquireRotationLock } from "../lock.js";
import { decideRenewal } from "../policy.js";
import { slotsToFree } from "./register.js";

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
    // promote already happened in an earlier attempt: only retire is left
    state.promoted = true;
    return null;
  }
  assertKeyMatchesCertificate(current.material.keyPem, current.material.certPem, where);
  state.oldFingerprint = state.currentInfo.fingerprint;

  let pending = await deps.store.readPending(credential.ref);
  if (pending && pending.rotationId !== state.rotationId) {
    // a leftover of a rotation that is not running (we hold the lock): its cert may still sit in a slot
    state.staleOwnFingerprints.push(pending.material.fingerprint);
    await deps.store.dropPending(credential.ref, pending.rotationId);
    deps.logger.warn({ staleRotationId: pending.rotationId }, "dropped leftover pending material");
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
