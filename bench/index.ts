/**
 * `npm run bench`: runs every benchmark section, prints one table, writes bench/results.json.
 * `npm run bench -- crypto bank` runs only the named sections. BENCH_QUICK=1 shrinks sample sizes.
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./lib.js";

type Section = { run(): Promise<BenchRow[]> };
const sections: Record<string, () => Promise<Section>> = {
  crypto: () => import("./crypto.js"),
  bank: () => import("./bank.js"),
  rotation: () => import("./rotation.js"),
  scan: () => import("./scan.js"),
  memory: () => import("./memory.js"),
  queue: () => import("./queue.js"),
  console: () => import("./console.js"),
  startup: () => import("./startup.js"),
};

function fmt(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function printTable(rows: BenchRow[]): void {
  const header = ["section", "op", "certrotor", "baseline", "unit", "ratio", "baseline is", "n"];
  const lines = rows.map((r) => [
    r.section,
    r.op,
    fmt(r.value),
    fmt(r.baseline),
    r.unit,
    `${r.speedup.toFixed(2)}×`,
    r.baselineName,
    String(r.n),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const show = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(show(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines) console.log(show(line));
  console.log("ratio > 1: certrotor is faster than the baseline measured in the same run.");
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in sections));
if (unknown.length > 0) {
  console.error(
    `unknown bench section(s): ${unknown.join(", ")} (known: ${Object.keys(sections).join(", ")})`,
  );
  process.exit(2);
}
const rows: BenchRow[] = [];
for (const [name, load] of Object.entries(sections)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const started = Date.now();
  console.error(`bench: ${name} ...`);
  rows.push(...(await (await load()).run()));
  console.error(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
printTable(rows);
const out = join(fileURLToPath(new URL(".", import.meta.url)), "results.json");
writeFileSync(
  out,
  `${JSON.stringify({ node: process.version, cpus: cpus().length, at: new Date().toISOString(), rows }, null, 2)}\n`,
);
console.error(`bench: wrote ${out}`);
