#!/usr/bin/env node
// Runs the whole suite on Node's built-in test runner, after checking that the real tools the tests rely
// on are installed (a missing redis-server fails at once with a clear message): the files run transpiled,
// from a test tree (scripts/test-tree.mjs), longest first (scripts/test-runner.mjs), two at a time.
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compiledEntry, staleBuild } from "../bin/build-freshness.js";
import { killMarked } from "./stragglers.mjs";
import { buildTestTree } from "./test-tree.mjs";

const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
if (probe.error || probe.status !== 0) {
  console.error(
    "redis-server is not installed: install it with `apt-get update && apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)",
  );
  process.exit(1);
}

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (entry.endsWith(".test.ts")) out.push(path);
  }
  return out.sort();
}

/**
 * The files that take longest, started first (scripts/test-runner.mjs keeps this order; `node --test`
 * would sort by name): a long file started last is the run's tail, alone on one core. Measured as each
 * file's process lifetime in a whole run.
 */
const SLOW_FIRST = [
  "test/queue/paused-worker.test.ts",
  "test/rotation/crash-paths.test.ts",
  "test/stores/contract.test.ts",
  "test/stores/aws-contract.test.ts",
  "test/console/browser.test.ts",
  "test/rotation/crash.test.ts",
  "test/cli/onboard-and-rotate.test.ts",
  "test/cli/issuer-import.test.ts",
  "test/redis/cluster.test.ts",
  "test/queue/worker.test.ts",
  "test/docs/tutorial.test.ts",
  "test/queue/discovery-scale.test.ts",
  "test/cli/bad-input.test.ts",
  "test/redis/sentinel.test.ts",
  "test/client/session.test.ts",
  "test/cli/import.test.ts",
  "test/cli/operator-commands.test.ts",
  "test/cli/demo.test.ts",
  "test/queue/stalls.test.ts",
  "test/queue/scan-job.test.ts",
  "test/queue/one-lease.test.ts",
  "test/cli/commands.test.ts",
  "test/console/cli.test.ts",
  "test/queue/one-state.test.ts",
  "test/queue/resilience.test.ts",
  "test/queue/rotate-wait.test.ts",
];
const rank = (file) => {
  const i = SLOW_FIRST.indexOf(file.split("\\").join("/"));
  return i === -1 ? SLOW_FIRST.length : i;
};

const filters = process.argv.slice(2);
const files = findTests("test")
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}
/**
 * The CLI the tests spawn, compiled once for this run in the image's layout (bin/, dist/, package.json,
 * node_modules): the tests run what production runs, and each of the suite's hundreds of CLI starts skips
 * tsx's compile-on-load (about 1 s of CPU each). In a temporary folder, so it never shadows the sources
 * for `npx certrotor`. test/fixtures/cli.ts reads its path from CERTROTOR_TEST_CLI.
 */
function buildCli() {
  const root = mkdtempSync(join(tmpdir(), "certrotor-test-cli-"));
  if (existsSync(compiledEntry(".")) && !staleBuild(".")) {
    // `npm ci`'s prepare script (or `npm run build`) compiled these very sources: no second compile.
    symlinkSync(resolve("dist"), join(root, "dist"));
  } else {
    const tsc = spawnSync(
      process.execPath,
      [
        "node_modules/typescript/bin/tsc",
        "-p",
        "tsconfig.build.json",
        "--outDir",
        join(root, "dist"),
        "--declaration",
        "false",
      ],
      { stdio: "inherit" },
    );
    if (tsc.status !== 0) {
      rmSync(root, { recursive: true, force: true });
      console.error("the CLI does not compile (npm run typecheck shows why)");
      process.exit(1);
    }
  }
  cpSync("bin", join(root, "bin"), { recursive: true });
  copyFileSync("package.json", join(root, "package.json"));
  symlinkSync(resolve("node_modules"), join(root, "node_modules"));
  return root;
}

const cli = buildCli();
const tree = buildTestTree();
// inherited by every process of the run, so that leftovers can be found afterwards (scripts/stragglers.mjs)
const runId = `${process.pid}-${Date.now()}`;
const child = spawn(
  process.execPath,
  ["--enable-source-maps", "scripts/test-runner.mjs", ...files.map((file) => file.replace(/\.ts$/, ".js"))],
  {
    cwd: tree,
    stdio: "inherit",
    env: { ...process.env, CERTROTOR_TEST_CLI: cli, CERTROTOR_TEST_RUN: runId },
  },
);
const cleanUp = () => {
  const left = killMarked(`CERTROTOR_TEST_RUN=${runId}`);
  if (left.length > 0)
    console.error(
      `npm test: stopped ${left.length} processes the tests left running: ${left.map((p) => `${p.name} (${p.pid})`).join(", ")}`,
    );
  rmSync(cli, { recursive: true, force: true });
  rmSync(tree, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  cleanUp();
  process.exit(code ?? (signal ? 1 : 0));
});
