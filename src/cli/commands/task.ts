/**
 * `certrotor task list|show|complete|cancel`: the human tasks of portal banks (src/tasks), in the shared
 * state. `complete` closes a task as done by an operator: for a sign-csr task it takes the certificate
 * the bank's portal signed (`--cert`), checked before anything changes; for a bind or unbind task it
 * records that the person did it (the rotation goes on at its next look). Both go through completeTask
 * (rotation/complete-task.ts), which the console's upload calls too.
 * `cancel` closes a task as not to be done: a rotation waiting on it stops and is rolled back.
 *
 *   certrotor task list [--all] [--credential ID] [--json]
 *   certrotor task show <task> [--json]
 *   certrotor task complete <task> [--cert signed.pem [--chain chain.pem]] [--by NAME] [--note TEXT]
 *   certrotor task cancel <task> [--by NAME] [--reason TEXT]
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { taskInstruction } from "../../alerts/rotation-alerts.js";
import { CertrotorError } from "../../errors.js";
import { assertTaskOpen, completeTask, findTask } from "../../rotation/complete-task.js";
import type { Runtime } from "../../runtime.js";
import type { HumanTask } from "../../tasks/types.js";
import { addConfigOption, withRuntime } from "../context.js";
import { EXIT } from "../errors.js";

const out = (line = ""): void => void process.stdout.write(`${line}\n`);

const bad = (message: string, hint?: string): CertrotorError =>
  new CertrotorError("BAD_ARGUMENT", message, hint ? { hint } : {});

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(resolve(path), "utf8");
  } catch (error) {
    throw bad(`${flag}: ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

function line(task: HumanTask): string {
  return `${task.id}  ${task.status.padEnd(9)} ${task.kind.padEnd(18)} ${task.credentialId}  deadline ${task.deadline}`;
}

function printTask(task: HumanTask): void {
  out(line(task));
  out(`  do         ${taskInstruction(task)}`);
  out(`  rotation   ${task.rotationId}`);
  out(
    `  bank       ${task.bank}  client_id ${task.clientId}${task.portalUrl ? `  portal ${task.portalUrl}` : ""}`,
  );
  out(`  opened     ${task.createdAt}  reminders ${task.remindersSent}  checks ${task.checks}`);
  if (task.fingerprint) out(`  cert       ${task.fingerprint}  notAfter ${task.notAfter ?? "?"}`);
  if (task.closedAt)
    out(`  closed     ${task.closedAt} by ${task.closedBy ?? "?"}${task.note ? `: ${task.note}` : ""}`);
  if (task.csrPem && task.kind === "sign-csr") out(`\n${task.csrPem.trim()}`);
  else if (task.certPem) out(`\n${task.certPem.trim()}`);
}

const operator = (by?: string): string => by ?? process.env.USER ?? "unknown";

async function complete(
  runtime: Runtime,
  id: string,
  flags: { cert?: string; chain?: string; by?: string; note?: string },
): Promise<HumanTask> {
  if (flags.chain !== undefined && flags.cert === undefined)
    throw bad("--chain: give the signed certificate with --cert too");
  const signed =
    flags.cert === undefined
      ? undefined
      : {
          certPem: await readPem(flags.cert, "--cert"),
          ...(flags.chain !== undefined ? { chainPem: await readPem(flags.chain, "--chain") } : {}),
        };
  return completeTask(runtime, id, {
    ...(signed ? { signed } : {}),
    operator: operator(flags.by),
    ...(flags.note !== undefined ? { note: flags.note } : {}),
  });
}

export function register(program: Command): void {
  const task = program
    .command("task")
    .description("Human tasks of portal banks: list, show, complete, cancel");
  addConfigOption(
    task
      .command("list")
      .description("Open tasks (with --all: every task kept), newest first")
      .option("--all", "also done and cancelled tasks")
      .option("--credential <id>", "only this credential's tasks")
      .option("--json", "print as JSON"),
  ).action(async (flags: { config: string; all?: boolean; credential?: string; json?: boolean }) => {
    process.exitCode = await withRuntime(program, flags.config, async (runtime) => {
      const tasks = await runtime.tasks.list({
        ...(flags.all ? {} : { status: "open" as const }),
        ...(flags.credential ? { credentialId: flags.credential } : {}),
      });
      if (flags.json) out(JSON.stringify(tasks, null, 2));
      else if (tasks.length === 0) out(flags.all ? "no tasks" : "no open tasks");
      else for (const t of tasks) out(line(t));
      return EXIT.ok;
    });
  });
  addConfigOption(
    task
      .command("show <task>")
      .description("One task: what to do, where, by when, its certificate or CSR")
      .option("--json", "print as JSON"),
  ).action(async (id: string, flags: { config: string; json?: boolean }) => {
    process.exitCode = await withRuntime(program, flags.config, async (runtime) => {
      const found = await findTask(runtime.tasks, id);
      if (flags.json) out(JSON.stringify(found, null, 2));
      else printTask(found);
      return EXIT.ok;
    });
  });
  addConfigOption(
    task
      .command("complete <task>")
      .description(
        "Close a task as done; a sign-csr task takes the portal's certificate (--cert), checked first",
      )
      .option("--cert <file>", "sign-csr: the certificate the bank's portal signed (PEM)")
      .option("--chain <file>", "sign-csr: the bank's CA chain (PEM), when the portal gave one")
      .option("--by <name>", "who did it (default: $USER)")
      .option("--note <text>", "what was done"),
  ).action(
    async (
      id: string,
      flags: { config: string; cert?: string; chain?: string; by?: string; note?: string },
    ) => {
      process.exitCode = await withRuntime(program, flags.config, async (runtime) => {
        const done = await complete(runtime, id, flags);
        out(
          `task ${done.id} done (${done.kind}, credential ${done.credentialId}); the rotation goes on at its next look`,
        );
        return EXIT.ok;
      });
    },
  );
  addConfigOption(
    task
      .command("cancel <task>")
      .description("Close a task as not to be done: a rotation waiting on it stops and is rolled back")
      .option("--by <name>", "who cancels (default: $USER)")
      .option("--reason <text>", "why"),
  ).action(async (id: string, flags: { config: string; by?: string; reason?: string }) => {
    process.exitCode = await withRuntime(program, flags.config, async (runtime) => {
      const found = await findTask(runtime.tasks, id);
      assertTaskOpen(found, "cancelled");
      const at = runtime.now().toISOString();
      const cancelled = await runtime.tasks.update(
        found.id,
        {
          status: "cancelled",
          closedAt: at,
          closedBy: `operator:${operator(flags.by)}`,
          ...(flags.reason ? { note: flags.reason } : {}),
        },
        runtime.now(),
      );
      out(`task ${cancelled.id} cancelled (${cancelled.kind}, credential ${cancelled.credentialId})`);
      return EXIT.ok;
    });
  });
}
