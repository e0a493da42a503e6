import type { Command } from "commander";
import { type ScanEntry, scan } from "../../rotation/scan.js";
import { intArg } from "../args.js";
import { addConfigOption, withRuntime } from "../context.js";

function decisionText(entry: ScanEntry): string {
  switch (entry.decision) {
    case "ok":
      return `ok, renews ${entry.dueAt?.slice(0, 16)}Z`;
    case "due":
      return `due, starts ${entry.dueAt?.slice(0, 16)}Z`;
    case "due-now":
      return "DUE NOW";
    case "expired":
      return "EXPIRED";
    case "broken":
      return `BROKEN: ${entry.reason}`;
  }
}

function printTable(entries: ScanEntry[]): void {
  const rows = entries.map((e) => [
    e.credentialId,
    e.fingerprint ? `${e.fingerprint.slice(0, 12)}…` : "-",
    e.notAfter ? e.notAfter.slice(0, 10) : "-",
    e.daysLeft !== undefined ? String(e.daysLeft) : "-",
    e.boundSlots !== undefined ? String(e.boundSlots) : "-",
    decisionText(e),
    e.drift.map((d) => d.kind).join(",") || "-",
  ]);
  const header = ["credential", "fingerprint", "notAfter", "days", "slots", "decision", "drift"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(header)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  for (const e of entries) {
    if (e.decision === "broken" || e.drift.length > 0)
      process.stdout.write(`${e.credentialId}: ${e.message}\n`);
    for (const t of e.tasks ?? [])
      process.stdout.write(`${e.credentialId}: open task ${t.id} (${t.kind}), deadline ${t.deadline}\n`);
  }
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("scan")
      .description(
        "Report every managed credential: expiry, bound slots, decision, drift. Exit 0 fine, 1 due, 2 broken/expired",
      )
      .option("--json", "print the report as one JSON document")
      .option("--concurrency <n>", "parallel reads, 1-256", intArg(1, 256), 16)
      .option("--no-bank", "do not ask the banks (store-only scan)"),
  ).action(async (options: { config: string; json?: boolean; concurrency: number; bank: boolean }) => {
    process.exitCode = await withRuntime(program, options.config, async (runtime) => {
      const report = await scan({
        ...runtime,
        concurrency: options.concurrency,
        skipBank: !options.bank,
      });
      if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printTable(report.entries);
      return report.exitCode;
    });
  });
}
