/**
 * Memory section: resident set size of a real `certrotor worker` process (the compiled CLI, a child of
 * this one) managing N credentials discovered by prefix in the Vault emulator (in this process), on a
 * private redis-server: idle after start-up, the peak while a scan job runs, and after the scan. Beside it,
 * in the same run, a bare node process making the same store reads (one LIST, one GET per credential, the
 * listed pendings, 16 in flight, keep-alive fetch), sampled the same way: its RSS at rest, the peak during
 * the reads and after them. RSS is read from /proc/<pid>/status (VmRSS) every SAMPLE_MS.
 *
 * The bank is an oauth2-mtls bank with registration "none" (no slot API), so the scan reads the stores
 * only and no bank is called; one credential in 100 holds a leftover pending, as in the scan section.
 *
 *   npm run build && node --import tsx bench/memory.ts     (BENCH_QUICK=1 for a smoke run)
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Queue, QueueEvents } from "bullmq";
import type { Config } from "../src/config/schema.js";
import { QUEUES } from "../src/queue/names.js";
import { startRedis } from "../src/util/redis-server.js";
import { startVaultEmulator, type VaultEmulator } from "../test/emulators/vault/server.js";
import { spawnProcess, stopWorker, writeConfig } from "../test/queue/helpers.js";
import { type BenchRow, quick, row } from "./lib.js";
import { seed } from "./scan.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COMPILED = join(ROOT, "dist", "src", "cli", "main.js");
/** BENCH_MEMORY_SIZES=10000 measures one size only (e.g. while working on memory). */
const SIZES = process.env.BENCH_MEMORY_SIZES
  ? process.env.BENCH_MEMORY_SIZES.split(",").map(Number)
  : quick
    ? [200, 1_000]
    : [1_000, 10_000];
const RUNS = Number(process.env.BENCH_MEMORY_RUNS ?? (quick ? 1 : 3));
/** The node flags the image's entry point gives the worker (Dockerfile, infra/compose/start-worker.sh). */
const IMAGE_FLAGS = ["--optimize-for-size"];
/**
 * The worker runs twice per round: with the image's flags, or BENCH_WORKER_FLAGS to try others
 * (BENCH_WORKER_FLAGS="--max-semi-space-size=4"), and with Node's defaults, so that what the flag buys shows.
 */
const WORKER_FLAGS = process.env.BENCH_WORKER_FLAGS
  ? process.env.BENCH_WORKER_FLAGS.split(" ").filter(Boolean)
  : IMAGE_FLAGS;
const SAMPLE_MS = 20;
/** After a scan (or the bare reads) the process is left this long before "after" is sampled. */
const SETTLE_MS = 2_000;
const PREFIX = "bench/";
const NEVER = "0 0 0 1 1 *";

const log = (line: string): void => void process.stderr.write(`bench: memory: ${line}\n`);

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Samples the RSS of `pid` every SAMPLE_MS until stopped; returns the peak seen. */
function peakSampler(pid: number): { stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // the process exited between two samples: keep the peak seen
    }
  }, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

interface Reading {
  idle: number;
  peak: number;
  after: number;
}

function workerConfig(vault: VaultEmulator, redisUrl: string, stateDir: string, prefix: string): Config {
  return {
    stateDir,
    stores: {
      main: { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } },
    },
    banks: {
      bank: {
        kind: "oauth2-mtls",
        url: "https://bank.invalid",
        tokenPath: "/oauth/token",
        registration: "none",
      },
    },
    issuers: { ca: { kind: "local-ca", store: "main", path: "ca/issuing" } },
    discovery: [{ store: "main", prefix: PREFIX, bank: "bank", issuer: "ca", keyType: "p256" }],
    redis: { url: redisUrl, prefix },
    worker: { port: 0 },
    schedules: { scan: NEVER, retire: NEVER },
    log: { level: "warn" },
  } as unknown as Config;
}

/** One worker process: RSS idle, during one scan job it is given, and after it. */
async function measureWorker(
  vault: VaultEmulator,
  redisUrl: string,
  dir: string,
  n: number,
  i: number,
  flags: readonly string[],
) {
  const prefix = `{bench-mem-${n}-${i}-${flags.length}}`;
  const configPath = await writeConfig(
    dir,
    workerConfig(vault, redisUrl, dir, prefix),
    `worker-${n}-${i}.json`,
  );
  // dist/ itself, as the image runs it: bin/ would fall back to the sources through tsx (and hold its
  // compiler) whenever a source file is newer than the build
  const worker = spawnProcess(
    [...flags, COMPILED, "worker", "--config", configPath, "--log-level", "warn"],
    "certrotor worker: listening",
    { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  );
  const connection = { url: redisUrl };
  const queue = new Queue(QUEUES.scan, { connection, prefix });
  const events = new QueueEvents(QUEUES.scan, { connection, prefix });
  try {
    await worker.ready;
    await events.waitUntilReady();
    await delay(SETTLE_MS);
    const pid = worker.child.pid!;
    const idle = rssMiB(pid);
    const sampler = peakSampler(pid);
    const job = await queue.add("scan", {});
    // a worker that dies mid-scan (out of heap under BENCH_WORKER_FLAGS, say) ends the run, not hangs it
    const died = worker.closed.then((): never => {
      throw new Error(`bench memory: the worker exited during the scan: ${worker.output().slice(-400)}`);
    });
    const result = (await Promise.race([job.waitUntilFinished(events, 600_000), died])) as {
      scanned: number;
    };
    const peak = sampler.stop();
    if (result.scanned !== n) throw new Error(`bench memory: the scan saw ${result.scanned} of ${n}`);
    await delay(SETTLE_MS);
    return { idle, peak, after: rssMiB(pid) } satisfies Reading;
  } finally {
    await events.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await stopWorker(worker);
  }
}

/** The baseline: a bare node process doing the same reads with fetch, holding nothing it read. */
const BARE = `
import pLimit from "p-limit";
const [url, token, prefix] = process.argv.slice(-3);
const headers = { "X-Vault-Token": token };
process.stdout.write("bare: ready\\n");
await new Promise((resolve) => process.once("message", resolve));
const listed = await fetch(url + "/v1/secret/metadata/" + prefix, { method: "LIST", headers });
const all = new Set((await listed.json()).data.keys);
const limit = pLimit(16);
const get = async (path) => (await fetch(url + "/v1/secret/data/" + prefix + path, { headers })).json();
await Promise.all(
  [...all].filter((k) => !k.endsWith(".pending")).map((key) =>
    limit(async () => {
      await get(key);
      if (all.has(key + ".pending")) await get(key + ".pending");
    }),
  ),
);
process.send("done");
await new Promise((resolve) => process.once("message", resolve));
`;

async function measureBare(vault: VaultEmulator): Promise<Reading> {
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", BARE, vault.url, vault.rootToken, PREFIX],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit", "ipc"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("bare: ready") && resolve());
      child.once("exit", (code) => reject(new Error(`bare reader exited (${code})`)));
    });
    await delay(SETTLE_MS);
    const pid = child.pid!;
    const idle = rssMiB(pid);
    const sampler = peakSampler(pid);
    const done = new Promise((resolve) => child.once("message", resolve));
    child.send("go");
    await done;
    const peak = sampler.stop();
    await delay(SETTLE_MS);
    return { idle, peak, after: rssMiB(pid) };
  } finally {
    child.kill();
  }
}

function rowsAt(n: number, ours: Reading[], bare: Reading[], label: string): BenchRow[] {
  const size = n.toLocaleString("en-US");
  const range = (values: number[]): string =>
    `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)} MiB`;
  // the best of the runs on both sides: the least disturbed by other load on the machine
  const best = (list: Reading[], key: keyof Reading): number => Math.min(...list.map((r) => r[key]));
  return (["idle", "peak", "after"] as const).map((key) =>
    row({
      section: "memory",
      op: `worker RSS ${key === "peak" ? "peak during a scan" : key === "after" ? "after the scan" : "idle"}, ${size} credentials (Vault)${label}`,
      value: best(ours, key),
      baseline: best(bare, key),
      baselineName: `bare node doing the same reads (${key})`,
      unit: "MiB",
      n: ours.length,
      notes: `worker ${range(ours.map((r) => r[key]))}, bare ${range(bare.map((r) => r[key]))} over ${ours.length} runs; lowest shown`,
    }),
  );
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync(COMPILED)) {
    throw new Error(
      "bench memory: no dist/ (run `npm run build` first: the section measures the compiled CLI)",
    );
  }
  const redis = await startRedis();
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), "certrotor-bench-memory-"));
  try {
    for (const n of SIZES) {
      const vault = await startVaultEmulator();
      try {
        await seed(vault, n);
        log(`seeded ${n} credentials`);
        const ours: Reading[] = [];
        const defaults: Reading[] = [];
        const bare: Reading[] = [];
        for (let i = 0; i < RUNS; i++) {
          ours.push(await measureWorker(vault, redis.url, dir, n, i, WORKER_FLAGS));
          defaults.push(await measureWorker(vault, redis.url, dir, n, i, []));
          bare.push(await measureBare(vault));
          const [o, d, b] = [ours.at(-1)!, defaults.at(-1)!, bare.at(-1)!];
          const mib = (r: Reading): string =>
            `idle ${r.idle.toFixed(0)} peak ${r.peak.toFixed(0)} after ${r.after.toFixed(0)} MiB`;
          log(
            `${n} run ${i + 1}/${RUNS}: worker ${WORKER_FLAGS.join(" ")} ${mib(o)}; node defaults ${mib(d)}; bare ${mib(b)}`,
          );
        }
        rows.push(
          ...rowsAt(n, ours, bare, WORKER_FLAGS === IMAGE_FLAGS ? "" : `, ${WORKER_FLAGS.join(" ")}`),
        );
        rows.push(...rowsAt(n, defaults, bare, ", node defaults"));
      } finally {
        await vault.stop();
      }
    }
    return rows;
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op}: ${r.value.toFixed(0)} MiB; ${r.baselineName}: ${r.baseline.toFixed(0)} MiB; ratio ${r.speedup.toFixed(2)}`,
    );
    if (r.notes) console.log(`  ${r.notes}`);
  }
}
