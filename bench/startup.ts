/**
 * Start-up section: whole `certrotor` runs (process start to exit) against bare `node -e 0` in the same
 * run: `--help`, and `status --json` on a file-store config with one credential (its bank, the sandbox,
 * answers in this process). The CLI runs compiled (bin/ → dist/, what `npm ci` builds); one row runs
 * `--help` from the sources through tsx, what a checkout without a build pays. Goals (issue 19): `--help`
 * ≤ 5× and `status` ≤ 8× bare node, i.e. ratios ≥ 0.2 and ≥ 0.125.
 *
 *   node --import tsx bench/startup.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { aWorld } from "../test/fixtures/world.js";
import { type BenchRow, quick, row, timeMs } from "./lib.js";

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "certrotor.js");
const N = quick ? 3 : 15;

function node(args: string[], env: Record<string, string> = {}): () => Promise<unknown> {
  return () => exec(process.execPath, args, { env: { ...process.env, ...env }, cwd: ROOT });
}

function compare(op: string, ours: number, bare: number, n: number, notes: string): BenchRow {
  return row({
    section: "startup",
    op,
    value: ours,
    baseline: bare,
    baselineName: "node -e 0",
    unit: "ms/op",
    n,
    notes,
  });
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync(join(ROOT, "dist", "src", "cli", "main.js"))) {
    throw new Error(
      "bench startup: no dist/ (run `npm run build` first: the section measures the compiled CLI)",
    );
  }
  const world = await aWorld({ store: "file", issuer: "local-ca" });
  try {
    const config = join(world.dir, "certrotor.json");
    await writeFile(config, JSON.stringify(world.config));
    // Bare node is measured before and after the CLI runs (the machine's load drifts) and the faster of
    // the two kept: the smaller baseline makes the ratio the conservative one.
    const bareBefore = await timeMs(node(["-e", "0"]), N, 1);
    const help = await timeMs(node([BIN, "--help"]), N, 1);
    const status = await timeMs(node([BIN, "status", "--json", "--config", config]), N, 1);
    const helpSource = await timeMs(node([BIN, "--help"], { CERTROTOR_FROM_SOURCE: "1" }), quick ? 2 : 5, 1);
    const bareAfter = await timeMs(node(["-e", "0"]), N, 1);
    const bare = Math.min(bareBefore, bareAfter);
    return [
      compare("certrotor --help (compiled)", help, bare, N, "goal ratio ≥ 0.20 (≤ 5× bare node)"),
      compare(
        "certrotor status --json, file store, 1 credential (compiled)",
        status,
        bare,
        N,
        "goal ratio ≥ 0.125 (≤ 8× bare node)",
      ),
      compare(
        "certrotor --help from the sources (tsx)",
        helpSource,
        bare,
        quick ? 2 : 5,
        "a checkout without a build",
      ),
    ];
  } finally {
    await world.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op.padEnd(62)} ${r.value.toFixed(1).padStart(8)} ms  ${r.baselineName} ${r.baseline.toFixed(1).padStart(6)} ms  ratio ${r.speedup.toFixed(3)}  n=${r.n}`,
    );
  }
}
