/**
 * Reminders and escalation of open human tasks (run by the scan: the worker's scan job and `certrotor
 * scan`). An open task is reminded every `tasks.remindEvery` after it opened (reminder n is due at
 * createdAt + n × remindEvery; several missed ones send one), and escalated once its deadline is
 * `tasks.escalateBefore` away: a critical alert to `tasks.escalateTo` (else the credential's channels),
 * which takes the place of the reminder due at that moment.
 * Each fires once: the task's revision is claimed before the alert is queued (TaskStore.claim), so two
 * scans at once send it once; the escalation is also an alert episode (manual-task-escalated), ended
 * with the credential's other episodes when the rotation succeeds.
 */
import type { TasksConfig } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import type { HumanTask, TaskStore } from "../tasks/types.js";
import { type RaiseDeps, raiseAlert } from "./raise.js";
import { taskInstruction } from "./rotation-alerts.js";

export interface TaskAlertDeps extends RaiseDeps {
  tasks: TaskStore;
  policy: TasksConfig;
  logger: Logger;
}

export interface TaskAlertResult {
  open: number;
  reminded: number;
  escalated: number;
}

function facts(task: HumanTask) {
  return {
    rotationId: task.rotationId,
    clientId: task.clientId,
    ...(task.fingerprint ? { fingerprint: task.fingerprint } : {}),
    ...(task.notAfter ? { notAfter: task.notAfter } : {}),
    taskId: task.id,
    ...(task.portalUrl ? { portalUrl: task.portalUrl } : {}),
    deadline: task.deadline,
  };
}

export async function alertOnTasks(deps: TaskAlertDeps): Promise<TaskAlertResult> {
  const result: TaskAlertResult = { open: 0, reminded: 0, escalated: 0 };
  const { policy } = deps;
  for (const task of await deps.tasks.list({ status: "open" })) {
    result.open++;
    const now = deps.now();
    try {
      const escalateAt = Date.parse(task.deadline) - policy.escalateBefore;
      const due = Math.floor((now.getTime() - Date.parse(task.createdAt)) / policy.remindEvery);
      if (!task.escalatedAt && now.getTime() >= escalateAt) {
        // the escalation stands for the reminder due now: a second scan that sees the escalated task
        // finds nothing due, so the two never go out together whatever order the scans run in
        const claimed = await deps.tasks.claim(
          task.id,
          task.rev,
          { escalatedAt: now.toISOString(), remindersSent: Math.max(task.remindersSent, due) },
          now,
        );
        if (claimed) {
          await raiseAlert(deps, task.credentialId, "manual-task-escalated", {
            ...facts(task),
            ...(policy.escalateTo ? { channels: [policy.escalateTo] } : {}),
            message: `task ${task.id} is still open ${now.getTime() >= Date.parse(task.deadline) ? "past" : "near"} its deadline ${task.deadline}: ${taskInstruction(task)}`,
            hint: "the old certificate expires soon after the deadline: do the task now, or certrotor task cancel it and rotate another way",
          });
          result.escalated++;
        }
        continue;
      }
      if (due <= task.remindersSent) continue;
      const claimed = await deps.tasks.claim(
        task.id,
        task.rev,
        { remindersSent: due, lastReminderAt: now.toISOString() },
        now,
      );
      if (!claimed) continue;
      await deps.sink.enqueueNotify({
        kind: "manual-task-reminder",
        episode: `certrotor/${task.credentialId}/manual-task`,
        credentialId: task.credentialId,
        ...facts(task),
        message: `reminder ${due}: task ${task.id} is open since ${task.createdAt}: ${taskInstruction(task)}, by ${task.deadline}`,
        at: now.toISOString(),
      });
      result.reminded++;
    } catch (error) {
      deps.logger.error(
        { taskId: task.id, err: { message: (error as Error).message } },
        "task reminder or escalation failed",
      );
    }
  }
  return result;
}
