/**
 * What both task adapters share: making a new task, merging a patch (a closed task never reopens), and
 * the guard that keeps secrets out: certPem must be a certificate and csrPem a CSR (public material),
 * every other value passes the journal's secret-shape check.
 */
import { CertrotorError } from "../errors.js";
import { secretShape } from "../journal/guard.js";
import { type HumanTask, type NewTask, TASK_KINDS, TASK_STATUSES, type TaskPatch, taskId } from "./types.js";

const PUBLIC_PEM = {
  certPem: /^-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----\s*$/,
  csrPem: /^-----BEGIN CERTIFICATE REQUEST-----[\s\S]*-----END CERTIFICATE REQUEST-----\s*$/,
} as const;

/** INTERNAL when a task would carry anything that looks secret (a bug, caught before it is stored). */
export function assertPublicTask(task: HumanTask): void {
  for (const [field, value] of Object.entries(task)) {
    if (typeof value !== "string") continue;
    const pem = PUBLIC_PEM[field as keyof typeof PUBLIC_PEM];
    const why = pem
      ? pem.test(value) && !/PRIVATE KEY/.test(value)
        ? null
        : "not a single public PEM block"
      : secretShape(value);
    if (why) {
      throw new CertrotorError("INTERNAL", `task "${task.id}": refused to store ${field}: ${why}`);
    }
  }
  if (!TASK_KINDS.includes(task.kind))
    throw new CertrotorError("INTERNAL", `task: unknown kind "${task.kind}"`);
  if (!TASK_STATUSES.includes(task.status))
    throw new CertrotorError("INTERNAL", `task: unknown status "${task.status}"`);
}

export function newTask(input: NewTask, now: Date): HumanTask {
  const at = now.toISOString();
  const task: HumanTask = {
    ...input,
    id: taskId(input.rotationId, input.kind),
    status: "open",
    createdAt: at,
    updatedAt: at,
    remindersSent: 0,
    checks: 0,
    rev: 1,
  };
  assertPublicTask(task);
  return task;
}

export function unknownTask(id: string): CertrotorError {
  return new CertrotorError("UNKNOWN_TASK", `no task "${id}"`, {
    hint: "certrotor task list shows the open tasks and their ids",
    details: { taskId: id },
  });
}

/** `task` with `patch` applied; TASK_CLOSED when a closed task would change its status. */
export function applyTaskPatch(task: HumanTask, patch: TaskPatch, now: Date): HumanTask {
  if (task.status !== "open" && patch.status !== undefined && patch.status !== task.status) {
    throw new CertrotorError(
      "TASK_CLOSED",
      `task "${task.id}" is ${task.status}${task.closedBy ? ` (by ${task.closedBy})` : ""}: it cannot become ${patch.status}; nothing was changed`,
      { details: { taskId: task.id, status: task.status } },
    );
  }
  const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
  const next: HumanTask = { ...task, ...defined, updatedAt: now.toISOString(), rev: task.rev + 1 };
  assertPublicTask(next);
  return next;
}

/** Newest first (ties: id). */
export function newestTaskFirst(a: HumanTask, b: HumanTask): number {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1;
}
