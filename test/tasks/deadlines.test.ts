/**
 * Deadlines of human tasks on an injected clock (the runtime's `now`): a bind task for a certificate
 * expiring in 14 days gets the deadline expiry − tasks.leadTime, a reminder every tasks.remindEvery and
 * one escalation (critical, to tasks.escalateTo) once the deadline is tasks.escalateBefore away; each
 * fires once even with two scans at every tick. The task gauges read the open tasks at scrape time.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { alertFromJob } from "../../src/alerts/build.js";
import { alertOnTasks } from "../../src/alerts/task-alerts.js";
import { configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import type { NotifyJobData } from "../../src/queue/payloads.js";
import { taskDeadline } from "../../src/rotation/tasks.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { days, hours } from "../fixtures/pki.js";

describe("task deadlines, reminders and escalation", () => {
  const start = new Date("2027-01-04T09:00:00.000Z");
  const clock = { now: start };
  let dir: string;
  let runtime: Runtime;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "certrotor-deadlines-"));
    const config = configSchema.parse({
      stateDir: join(dir, "state"),
      alerts: { channels: { pager: { kind: "log" }, chat: { kind: "log" } } },
      tasks: { leadTime: days(7), remindEvery: days(1), escalateBefore: days(2), escalateTo: "pager" },
      log: { level: "silent" },
    });
    runtime = await createRuntime(config, {
      logger: createLogger({ level: "silent" }),
      now: () => clock.now,
    });
  });
  after(async () => {
    await runtime?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reminds every remindEvery, escalates once near the deadline, each alert once", async () => {
    const certExpiry = new Date(start.getTime() + days(14));
    const deadline = taskDeadline({ taskPolicy: runtime.config.tasks }, certExpiry);
    assert.equal(deadline.toISOString(), new Date(start.getTime() + days(7)).toISOString());
    const { task } = await runtime.tasks.open(
      {
        kind: "bind-certificate",
        credentialId: "cred-a",
        rotationId: "rot_a",
        bank: "portal",
        clientId: "client-a",
        deadline: deadline.toISOString(),
        fingerprint: "ab".repeat(32),
      },
      clock.now,
    );
    const sent: NotifyJobData[] = [];
    const deps = {
      tasks: runtime.tasks,
      policy: runtime.config.tasks,
      episodes: runtime.episodes,
      sink: {
        enqueueNotify: async (data: NotifyJobData) => {
          sent.push(data);
          return true;
        },
      },
      now: runtime.now,
      logger: runtime.logger,
    };
    for (let at = 0; at <= days(9); at += hours(12)) {
      clock.now = new Date(start.getTime() + at);
      // two scans at once (two workers' scan jobs, or a scan and a resumed one): still one alert each
      await Promise.all([alertOnTasks(deps), alertOnTasks(deps)]);
      // and one after them, which always sees what they claimed (the order the concurrent two cannot fix)
      await alertOnTasks(deps);
    }
    const seen = sent.map((d) => `${d.kind}@${(Date.parse(d.at) - start.getTime()) / hours(1)}h`);
    assert.deepEqual(seen, [
      "manual-task-reminder@24h",
      "manual-task-reminder@48h",
      "manual-task-reminder@72h",
      "manual-task-reminder@96h",
      "manual-task-escalated@120h",
      "manual-task-reminder@144h",
      "manual-task-reminder@168h",
      "manual-task-reminder@192h",
      "manual-task-reminder@216h",
    ]);
    const escalation = sent.find((d) => d.kind === "manual-task-escalated")!;
    assert.deepEqual(escalation.channels, ["pager"]);
    assert.equal(alertFromJob(escalation).severity, "critical");
    assert.equal(escalation.taskId, task.id);
    assert.equal(escalation.deadline, deadline.toISOString());
    const stored = await runtime.tasks.get(task.id);
    assert.equal(stored?.remindersSent, 9);
    assert.ok(stored?.escalatedAt);
    assert.ok(!JSON.stringify(sent).includes("PRIVATE"), "no key material in any alert");

    const metrics = createMetrics({ defaultMetrics: false, now: () => clock.now.getTime() });
    metrics.watchTasks(() => runtime.tasks.list({ status: "open" }));
    const text = await metrics.text();
    assert.match(text, /^certrotor_manual_tasks_pending 1$/m);
    assert.match(text, new RegExp(`^certrotor_manual_task_oldest_age_seconds ${days(9) / 1000}$`, "m"));
    await runtime.tasks.update(task.id, { status: "done", closedBy: "operator:ana" }, clock.now);
    const after = await metrics.text();
    assert.match(after, /^certrotor_manual_tasks_pending 0$/m);
    assert.match(after, /^certrotor_manual_task_oldest_age_seconds 0$/m);
  });
});
