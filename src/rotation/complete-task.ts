/**
 * Closing a human task as done by an operator, for every entry point (`certrotor task complete` and the
 * console's upload): the task must exist and be open, a sign-csr task takes the certificate the bank's
 * portal signed, checked under the credential's rotation lock by completeSignTask (steps/portal-sign.ts),
 * and a bind or unbind task records that the person did it. One function, so the console refuses exactly
 * what the CLI refuses.
 */
import { CertrotorError } from "../errors.js";
import { fencedJournal } from "../journal/types.js";
import { unknownTask } from "../tasks/record.js";
import type { HumanTask, TaskStore } from "../tasks/types.js";
import type { RotationDeps } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { acquireRotationLock, OPERATOR_LOCK_WAIT_MS } from "./lock.js";
import { completeSignTask } from "./steps/portal-sign.js";

/** The parts of the runtime a completion uses (src/runtime.ts's Runtime fits). */
export interface TaskRuntime {
  readonly tasks: TaskStore;
  readonly now: () => Date;
  credential(id: string): Promise<ResolvedCredential>;
  depsFor(credential: ResolvedCredential): RotationDeps;
}

export interface SignedCertificate {
  certPem: string;
  chainPem?: string;
}

/** The task, or UNKNOWN_TASK. */
export async function findTask(tasks: TaskStore, id: string): Promise<HumanTask> {
  const task = await tasks.get(id);
  if (!task) throw unknownTask(id);
  return task;
}

/** TASK_CLOSED unless the task is open. */
export function assertTaskOpen(task: HumanTask, what: string): void {
  if (task.status === "open") return;
  throw new CertrotorError(
    "TASK_CLOSED",
    `task ${task.id} is ${task.status}${task.closedBy ? ` (by ${task.closedBy})` : ""}: it cannot be ${what}; nothing was changed`,
    { details: { taskId: task.id } },
  );
}

/**
 * Closes task `id` as done by `operator` (recorded as `operator:<name>`). A sign-csr task needs `signed`,
 * which is checked before anything changes (TASK_CERT_REJECTED otherwise); other kinds refuse it.
 */
export async function completeTask(
  runtime: TaskRuntime,
  id: string,
  input: { signed?: SignedCertificate; operator: string; note?: string },
): Promise<HumanTask> {
  const task = await findTask(runtime.tasks, id);
  if (task.kind === "sign-csr" && input.signed === undefined) {
    throw new CertrotorError(
      "BAD_ARGUMENT",
      `task ${task.id} is a sign-csr task: it is completed with the certificate the bank's portal signed`,
      { hint: `certrotor task complete ${task.id} --cert FILE, or the console's upload on /tasks` },
    );
  }
  if (task.kind !== "sign-csr" && input.signed !== undefined) {
    throw new CertrotorError(
      "BAD_ARGUMENT",
      `task ${task.id} is a ${task.kind} task: a signed certificate is only taken by sign-csr tasks`,
    );
  }
  assertTaskOpen(task, "completed");
  const by = `operator:${input.operator}`;
  if (!input.signed) {
    const at = runtime.now().toISOString();
    return runtime.tasks.update(
      task.id,
      { status: "done", closedAt: at, closedBy: by, note: input.note ?? "done in the bank's portal" },
      runtime.now(),
    );
  }
  const credential = await runtime.credential(task.credentialId);
  const base = runtime.depsFor(credential);
  // the lock: a worker looking at the parked rotation now must not see a half-staged certificate
  const lock = await acquireRotationLock(base, credential.id, OPERATOR_LOCK_WAIT_MS);
  try {
    const deps = { ...base, journal: fencedJournal(base.journal, lock.lease) };
    return await completeSignTask(deps, credential, task, lock, input.signed, by);
  } finally {
    await lock.release();
  }
}
