/**
 * The rotation's side of human tasks (src/tasks): opening a task for this rotation (fenced by its lease,
 * idempotent: a rerun finds the same task), closing it, and the token call that tells whether the person
 * did what the task asks. Used by register (bind), retire (unbind) and rollback (cancel).
 */
import type { ClientMaterial } from "../bank/types.js";
import { tasksSchema } from "../config/schema.js";
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { HumanTask, NewTask, TaskPatch, TaskStore } from "../tasks/types.js";
import type { HeldLock, RotationDeps } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";

const DEFAULT_POLICY = tasksSchema.parse({});

export function taskPolicyOf(deps: Pick<RotationDeps, "taskPolicy">) {
  return deps.taskPolicy ?? DEFAULT_POLICY;
}

export function requireTasks(deps: RotationDeps, credential: ResolvedCredential): TaskStore {
  if (deps.tasks) return deps.tasks;
  throw new CertrotorError(
    "INTERNAL",
    `credential "${credential.id}": bank "${credential.bank}" has registration: manual, but this runtime has no task store`,
  );
}

/** A rotation waiting on a task an operator cancelled stops (and is rolled back): a final error. */
export function taskCancelled(credential: ResolvedCredential, task: HumanTask): CertrotorError {
  return new CertrotorError(
    "TASK_CANCELLED",
    `credential "${credential.id}": task ${task.id} (${task.kind}) was cancelled${task.closedBy ? ` by ${task.closedBy}` : ""}; the rotation stops`,
    {
      hint: "the staged material is rolled back; rotate again (certrotor rotate) when the bank's portal can take it",
      details: { taskId: task.id },
    },
  );
}

/** The deadline of a task while `oldNotAfter` is the certificate still in use: expiry minus leadTime. */
export function taskDeadline(deps: Pick<RotationDeps, "taskPolicy">, oldNotAfter: Date): Date {
  return new Date(oldNotAfter.getTime() - taskPolicyOf(deps).leadTime);
}

/** Opens the task (fenced, idempotent: the same rotation and kind find the task opened before). */
export async function openTask(
  deps: RotationDeps,
  holder: { lock: HeldLock; credential: ResolvedCredential },
  input: Omit<NewTask, "credentialId" | "bank" | "portalUrl">,
): Promise<HumanTask> {
  const tasks = requireTasks(deps, holder.credential);
  const portalUrl = deps.bankProfile?.portalUrl;
  const { task, created } = await tasks.open(
    {
      ...input,
      credentialId: holder.credential.id,
      bank: holder.credential.bank,
      ...(portalUrl ? { portalUrl } : {}),
    },
    deps.now(),
    holder.lock.lease,
  );
  if (created) deps.logger.info({ taskId: task.id, kind: task.kind }, "opened a human task");
  return task;
}

export async function updateTask(
  deps: RotationDeps,
  holder: { lock: HeldLock; credential: ResolvedCredential },
  task: HumanTask,
  patch: TaskPatch,
): Promise<HumanTask> {
  return requireTasks(deps, holder.credential).update(task.id, patch, deps.now(), holder.lock.lease);
}

/**
 * Whether `material` obtains a token now: true on a token, false when the bank refuses the certificate
 * (INVALID_CLIENT_CERT: not bound, or no longer). Anything else (the bank down, a wrong secret) throws.
 */
export async function certificateAccepted(
  deps: RotationDeps,
  material: ClientMaterial,
  credentials: { clientId: string; clientSecret: string },
): Promise<boolean> {
  try {
    await deps.bank.requestToken(material, credentials);
    return true;
  } catch (error) {
    if (isCertrotorError(error, "INVALID_CLIENT_CERT")) return false;
    throw error;
  }
}

/** How long a parked rotation waits before its next look: pollEvery doubling per check, up to pollMax. */
export function nextCheckDelay(deps: RotationDeps, checks: number): number {
  const policy = taskPolicyOf(deps);
  return Math.min(policy.pollMax, policy.pollEvery * 2 ** Math.min(Math.max(checks - 1, 0), 20));
}
