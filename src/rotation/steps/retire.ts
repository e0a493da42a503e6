/**
 * retire: unbind the old certificate at the bank, only after the new one passed verify, was promoted
 * and the grace period passed (invariant 4). Where the bank reports when each cert was last used, the
 * old one must also have been idle for a while, so a consumer that never reloaded is found before it
 * breaks: past `maxRetireWait` the old cert stays bound and CONSUMERS_ON_OLD_CERT is raised.
 */
import { requireSlots } from "../../bank/capabilities.js";
import type { Promoted, RotationDeps } from "../context.js";
import { fenced } from "../fence.js";

export type RetireResult =
  | { status: "retired" }
  | { status: "wait"; until: Date }
  | { status: "consumers-on-old-cert"; lastUsedAt: Date };

export async function retire(
  deps: RotationDeps,
  rotation: Promoted,
  retireDueAt: Date,
): Promise<RetireResult> {
  const now = deps.now();
  if (now < retireDueAt) return { status: "wait", until: retireDueAt };
  const { oldFingerprint } = rotation;
  if (!oldFingerprint) return { status: "retired" };
  const current = await deps.store.readCurrent(rotation.credential.ref);
  if (current.material.fingerprint === oldFingerprint) return { status: "retired" }; // never unbind the current cert

  const slots = await requireSlots(deps.bank).listSlots(rotation.clientId);
  const slot = slots.find((s) => s.fingerprint === oldFingerprint);
  if (!slot) return { status: "retired" }; // already unbound: an absent binding counts as done
  const { idleBeforeRetire, maxRetireWait } = rotation.credential.policy;
  if (slot.lastUsedAt && now.getTime() - slot.lastUsedAt.getTime() < idleBeforeRetire) {
    if (now.getTime() - retireDueAt.getTime() >= maxRetireWait) {
      return { status: "consumers-on-old-cert", lastUsedAt: slot.lastUsedAt };
    }
    return { status: "wait", until: new Date(slot.lastUsedAt.getTime() + idleBeforeRetire) };
  }
  await fenced(rotation, () => requireSlots(deps.bank).unbind(rotation.clientId, oldFingerprint));
  return { status: "retired" };
}
