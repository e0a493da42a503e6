/**
 * Shared shape of benchmark sections. Each section (bench/<area>.ts) exports `run(): Promise<BenchRow[]>`;
 * bench/index.ts runs them in order, prints one table and writes bench/results.json.
 * Every figure is reported beside a baseline measured in the same run, as a ratio.
 */
import { performance } from "node:perf_hooks";

export interface BenchRow {
  /** Section, e.g. "crypto", "bank". */
  section: string;
  /** What was measured, e.g. "keygen rsa2048". */
  op: string;
  /** Our figure. */
  value: number;
  /** The baseline's figure for the same op in the same run (e.g. the openssl CLI). */
  baseline: number;
  /** What the baseline is, e.g. "openssl genpkey". */
  baselineName: string;
  /** Unit of value/baseline: "ms/op" (lower is better) or "ops/s" (higher is better). */
  unit: "ms/op" | "ops/s" | "ms" | "MiB";
  /** ours/baseline for ops/s, baseline/ours for ms: > 1 means we are faster. Computed by `row()`. */
  speedup: number;
  n: number;
  notes?: string;
}

export function row(fields: Omit<BenchRow, "speedup">): BenchRow {
  const higherIsBetter = fields.unit === "ops/s";
  const speedup = higherIsBetter ? fields.value / fields.baseline : fields.baseline / fields.value;
  return { ...fields, speedup: Number(speedup.toFixed(3)) };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Median ms per call of `fn` over `n` sequential runs (after `warmup` unmeasured runs). */
export async function timeMs(fn: () => Promise<unknown> | unknown, n: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** True when BENCH_QUICK=1: sections use small n so the whole bench finishes fast (CI smoke). */
export const quick = process.env.BENCH_QUICK === "1";
