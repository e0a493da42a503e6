/**
 * retire: unbind the old certificate at the bank, only after the new one passed verify, was promoted
 * and the grace period passed (invariant 4). Where the bank reports when each cert was last used, the
 * old one must also have been idle for a while, so a consumer that never reloaded is found before it
 * breaks: past `maxRetireWait` the old cert stays bound and CONSUMERS_ON_OLD_CERT is raised.
 *
 * By the bank's registration: `api` unbinds through the slot API; `none` (the bank trusts the CA) has
 * nothing to unbind; `manual` opens an unbind-certificate task, done once a token call with the OLD
 * material fails (the person unbound it) or an operator completes it (`certrotor task complete`).
 */
import { requireSlots } from "../../bank/capabilities.js";
import type { HumanTask } from "../../tasks/types.js";
import type { Promoted, RotationDeps } from "../context.js";
import { hookAt } from "../attempt.js";
import { fenced } from "../fence.js";
import { certificateAccepted, nextCheckDelay, openTask, updateTask } from "../tasks.js";

export type RetireResult =
  | { status: "retired"; how: "unbound" | "skipped" | "confirmed" | "operator" | "kept"; task?: HumanTask }
  | { status: "wait"; until: Date; task?: HumanTask }
  | { status: "consumers-on-old-cert"; lastUsedAt: Date };

export async function retire(
  deps: RotationDeps,
  rotation: Promoted,
  retireDueAt: Date,
): Promise<RetireResult> {
  const now = deps.now();
  if (now < retireDueAt) return { status: "wait", until: retireDueAt };
  const { oldFingerprint } = rotation;
  if (!oldFingerprint) return { status: "retired", how: "unbound" };
  const current = await deps.store.readCurrent(rotation.credential.ref);
  if (current.material.fingerprint === oldFingerprint) return { status: "retired", how: "unbound" }; // never unbind the current cert

  const registration = deps.bankProfile?.registration ?? "api";
  if (registration === "none") return { status: "retired", how: "skipped" };
  if (registration === "manual") return retireManually(deps, rotation, oldFingerprint);

  const slots = await requireSlots(deps.bank).listSlots(rotation.clientId);
  const slot = slots.find((s) => s.fingerprint === oldFingerprint);
  if (!slot) return { status: "retired", how: "unbound" }; // already unbound: an absent binding counts as done
  const { idleBeforeRetire, maxRetireWait } = rotation.credential.policy;
  if (slot.lastUsedAt && now.getTime() - slot.lastUsedAt.getTime() < idleBeforeRetire) {
    if (now.getTime() - retireDueAt.getTime() >= maxRetireWait) {
      return { status: "consumers-on-old-cert", lastUsedAt: slot.lastUsedAt };
    }
    return { status: "wait", until: new Date(slot.lastUsedAt.getTime() + idleBeforeRetire) };
  }
  await fenced(rotation, () => requireSlots(deps.bank).unbind(rotation.clientId, oldFingerprint));
  return { status: "retired", how: "unbound" };
}

async function retireManually(
  deps: RotationDeps,
  rotation: Promoted,
  oldFingerprint: string,
): Promise<RetireResult> {
  const previous = await deps.store.readPrevious(rotation.credential.ref);
  const old = previous?.material.fingerprint === oldFingerprint ? previous.material : undefined;
  let task = await openTask(deps, rotation, {
    kind: "unbind-certificate",
    rotationId: rotation.rotationId,
    clientId: rotation.clientId,
    // past the old certificate's expiry the bank refuses it anyway: the task is moot by then
    deadline: old?.notAfter ?? deps.now().toISOString(),
    fingerprint: oldFingerprint,
    ...(old ? { certPem: old.certPem, notAfter: old.notAfter } : {}),
  });
  await hookAt(
    deps,
    { credentialId: rotation.credential.id, rotationId: rotation.rotationId },
    "retire:task-opened",
  );
  if (task.status === "done") return { status: "retired", how: "operator", task };
  if (task.status === "cancelled") return { status: "retired", how: "kept", task }; // an operator keeps it bound
  const at = deps.now();
  const clientSecret =
    old?.clientSecret ?? (await deps.store.readCurrent(rotation.credential.ref)).material.clientSecret;
  // without the old key (or a secret) certrotor cannot look: the task waits for an operator's task complete
  const stillBound =
    old && clientSecret
      ? await fenced(rotation, () =>
          certificateAccepted(
            deps,
            { certPem: old.certPem, keyPem: old.keyPem, ...(old.chainPem ? { chainPem: old.chainPem } : {}) },
            { clientId: rotation.clientId, clientSecret },
          ),
        )
      : true;
  if (!stillBound) {
    task = await updateTask(deps, rotation, task, {
      status: "done",
      checks: task.checks + 1,
      lastCheckAt: at.toISOString(),
      closedAt: at.toISOString(),
      closedBy: "certrotor",
      note: "a token call with the old certificate was refused: it is unbound",
    });
    return { status: "retired", how: "confirmed", task };
  }
  task = await updateTask(deps, rotation, task, { checks: task.checks + 1, lastCheckAt: at.toISOString() });
  return { status: "wait", until: new Date(at.getTime() + nextCheckDelay(deps, task.checks)), task };
}
