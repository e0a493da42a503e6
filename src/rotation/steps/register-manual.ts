/**
 * register at a portal bank (registration: manual): the new material is staged (its key retrievable,
 * invariant 3), so a person may bind its certificate now. Opens the bind-certificate task (once per
 * rotation), then asks the bank whether the binding exists with a token call using the NEW material:
 * the first token proves the binding (the task is closed as done, no human confirmation needed); a
 * refused certificate means not yet, and the rotation parks (saga.ts) to look again later.
 */
import type { FreshPlan, Registration, RotationDeps, Staged } from "../context.js";
import { hookAt } from "../attempt.js";
import { fenced } from "../fence.js";
import { certificateAccepted, openTask, taskCancelled, taskDeadline, updateTask } from "../tasks.js";

export async function registerManually(
  deps: RotationDeps,
  planned: FreshPlan,
  staged: Staged,
): Promise<Registration> {
  let task = await openTask(deps, planned, {
    kind: "bind-certificate",
    rotationId: planned.rotationId,
    clientId: planned.clientId,
    deadline: taskDeadline(deps, planned.currentInfo.notAfter).toISOString(),
    certPem: staged.certPem,
    fingerprint: staged.fingerprint,
    notAfter: staged.notAfter,
  });
  await hookAt(deps, where(planned), "register:task-opened");
  if (task.status === "done") return { how: "confirmed", task };
  if (task.status === "cancelled") throw taskCancelled(planned.credential, task);
  const clientSecret = staged.clientSecret ?? planned.current.material.clientSecret ?? "";
  const accepted = await fenced(planned, () =>
    certificateAccepted(
      deps,
      {
        certPem: staged.certPem,
        keyPem: staged.keyPem,
        ...(staged.chainPem ? { chainPem: staged.chainPem } : {}),
      },
      { clientId: planned.clientId, clientSecret },
    ),
  );
  const at = deps.now().toISOString();
  if (!accepted) {
    task = await updateTask(deps, planned, task, { checks: task.checks + 1, lastCheckAt: at });
    return { how: "awaiting", task };
  }
  task = await updateTask(deps, planned, task, {
    status: "done",
    checks: task.checks + 1,
    lastCheckAt: at,
    closedAt: at,
    closedBy: "certrotor",
    note: "a token call with the new certificate succeeded: it is bound",
  });
  return { how: "confirmed", task };
}

function where(planned: FreshPlan) {
  return { credentialId: planned.credential.id, rotationId: planned.rotationId };
}
