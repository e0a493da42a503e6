import type { Command } from "commander";
import { listCredentials } from "../../rotation/credentials.js";
import {
  type CredentialStatus,
  credentialStatus,
  nextScans,
  type StatusReport,
} from "../../rotation/status.js";
import { addConfigOption, withRuntime } from "../context.js";
import { EXIT } from "../errors.js";

function print(report: StatusReport): void {
  const out = (line = ""): void => void process.stdout.write(`${line}\n`);
  out(`next scheduled scans: ${report.nextScans.join(", ") || "none"}`);
  for (const c of report.credentials) {
    out();
    out(`${c.credentialId}`);
    if (c.error) out(`  error      ${c.error.code}: ${c.error.message}`);
    if (c.current) {
      out(
        `  current    ${c.current.fingerprint.slice(0, 16)}…  notAfter ${c.current.notAfter}  version ${c.current.version}`,
      );
      out(`             ${c.current.subject}`);
    }
    if (c.pending)
      out(`  pending    ${c.pending.fingerprint.slice(0, 16)}…  rotation ${c.pending.rotationId}`);
    if (c.decision) out(`  decision   ${c.decision.status} (${c.decision.reason}): ${c.decision.message}`);
    if (c.nextWindowOpening) out(`  window     next opening ${c.nextWindowOpening}`);
    for (const s of c.slots ?? []) {
      out(
        `  slot       ${s.fingerprint.slice(0, 16)}…  bound ${s.boundAt}  last used ${s.lastUsedAt ?? "never"}`,
      );
    }
    for (const t of c.tasks ?? []) {
      out(
        `  task       ${t.id}  ${t.kind} open since ${t.createdAt}  deadline ${t.deadline}  (certrotor task show ${t.id})`,
      );
    }
    for (const r of c.rotations) {
      const error = r.errorCode ? `  ${r.errorCode}: ${r.errorMessage ?? ""}` : "";
      out(
        `  rotation   ${r.rotationId}  ${r.status} at ${r.step}  started ${r.startedAt}  attempts ${r.attempts}${error}`,
      );
    }
    for (const e of c.history ?? []) {
      const details = e.details
        ? ` ${Object.entries(e.details)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : "";
      out(
        `  audit      ${e.at}  ${e.action.padEnd(16)} by ${e.actor}${e.rotationId ? `  ${e.rotationId}` : ""}${details}`,
      );
    }
  }
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("status [credential]")
      .description("Current material, bank slots, renewal decision, last rotations and next schedules")
      .option("--json", "print as one JSON document")
      .option("--history", "include the audit trail of state-changing actions"),
  ).action(
    async (
      credentialId: string | undefined,
      options: { config: string; json?: boolean; history?: boolean },
    ) => {
      process.exitCode = await withRuntime(program, options.config, async (runtime) => {
        const credentials = credentialId
          ? [await runtime.credential(credentialId)]
          : await listCredentials(runtime.config, runtime.stores);
        const statuses: CredentialStatus[] = [];
        for (const credential of credentials) {
          statuses.push(await credentialStatus(runtime, credential, { history: options.history ?? false }));
        }
        const report: StatusReport = {
          at: runtime.now().toISOString(),
          nextScans: nextScans(runtime.config, runtime.now()),
          credentials: statuses,
        };
        if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else print(report);
        return statuses.some((s) => s.error) ? EXIT.failed : EXIT.ok;
      });
    },
  );
}
