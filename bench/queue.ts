/**
 * Queue section: rotations/s through BullMQ (producer `enqueueRotate` → worker → saga) with one
 * in-process worker (`startWorker`), one and two worker processes (`certrotor worker`), beside `--inline`
 * rotations (runRotation) measured in the same run: the ratio is the queue's overhead (or, with two
 * processes, its gain). Plus the latency from `enqueueRotate` to the job starting on an idle worker,
 * beside a bare BullMQ hop (add → idle no-op Worker) measured the same way on the same redis-server.
 * File store, local CA and the bank sandbox (in this process) as in the rotation section. Every arm has
 * its own queue prefix and all run side by side, idle but one, so rounds can alternate between them.
 * Per key type: P-256 runs every arm; RSA-2048 (keygen-bound) runs the two-process arm beside a CPU floor
 * measured in the same rounds: two processes doing only keygen + CSR + CA sign (bench/queue-floor.ts).
 *
 *   node --import tsx bench/queue.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import pLimit from "p-limit";
import type { Config } from "../src/config/schema.js";
import { createLogger } from "../src/observability/logger.js";
import { redisConnection } from "../src/redis/connection.js";
import { createProducer, type Producer } from "../src/queue/producer.js";
import { startWorker } from "../jobs/worker.js";
import type { ResolvedCredential } from "../src/rotation/credentials.js";
import { runRotation } from "../src/rotation/run.js";
import { createRuntime } from "../src/runtime.js";
import { type RedisServer, startRedis } from "../src/util/redis-server.js";
import { aWorld, type TestWorld } from "../test/fixtures/world.js";
import { spawnWorker, stopWorker, writeConfig } from "../test/queue/helpers.js";
import { type BenchRow, median, percentile, quick, row } from "./lib.js";
import { armConfig, bareHops, enqueueToStart, Outcomes } from "./queue-lib.js";
import { floorRate } from "./queue-floor.js";

const CREDENTIALS = quick ? 12 : 24;
/** BENCH_QUEUE_KEYS=rsa2048 (or p256) narrows a run to one key type's rows. */
const KEY_TYPES = (["p256", "rsa2048"] as const).filter(
  (k) => !process.env.BENCH_QUEUE_KEYS || process.env.BENCH_QUEUE_KEYS.split(",").includes(k),
);
const ROUNDS = quick ? 1 : 3;
const LATENCY_N = quick ? 10 : 100;
const silent = createLogger({ level: "silent" });
const log = (line: string): void => void process.stderr.write(`bench: queue: ${line}\n`);

interface Arm {
  producer: Producer;
  outcomes: Outcomes;
  close(): Promise<void>;
}

/** A producer and an outcome counter on the arm's own queue prefix; `workers` starts what consumes it. */
async function openArm(redis: RedisServer, config: Config, workers: () => Promise<() => Promise<void>>) {
  const connection = redisConnection(config.redis!, "command");
  connection.on("error", () => undefined);
  const producer = createProducer(connection, config.redis!.prefix);
  const outcomes = await Outcomes.start(redis.url, "rotate", config.redis!.prefix);
  const closeClients = async (): Promise<void> => {
    await producer.close();
    await outcomes.close();
    connection.disconnect();
  };
  const stopWorkers = await workers().catch(async (error: unknown) => {
    await closeClients();
    throw error;
  });
  return {
    producer,
    outcomes,
    async close() {
      await stopWorkers();
      await closeClients();
    },
  } satisfies Arm;
}

const inProcess = (config: Config) => async () => {
  const handle = await startWorker(config, { logger: silent, port: 0, host: "127.0.0.1", schedules: false });
  return () => handle.stop();
};

const processes = (world: TestWorld, config: Config, count: number) => async () => {
  const path = await writeConfig(world.dir, config, `bench-${count}-workers.json`);
  const spawned = Array.from({ length: count }, () => spawnWorker(path));
  await Promise.all(spawned.map((w) => w.ready));
  return async () => {
    await Promise.all(spawned.map((w) => stopWorker(w)));
  };
};

/** Rotations/s of one round: every credential enqueued at once, until the last job finished. */
async function queuedRound(arm: Arm, ids: string[]): Promise<number> {
  const finished = arm.outcomes.until(arm.outcomes.completed + ids.length);
  const started = performance.now();
  await Promise.all(
    ids.map((credentialId) =>
      arm.producer.enqueueRotate({ credentialId, trigger: "on-demand", attempts: 3 }),
    ),
  );
  await finished;
  arm.outcomes.assertNoFailures();
  return (ids.length * 1000) / (performance.now() - started);
}

/** `--inline` rotations of every credential in one runtime (file journal and locks), `inFlight` at once. */
async function openInline(world: TestWorld) {
  const runtime = await createRuntime(world.config, { logger: silent });
  const credentials = await Promise.all(world.credentials.map((c) => runtime.credential(c.id)));
  const rotate = async (c: ResolvedCredential): Promise<void> => {
    const result = await runRotation(runtime.depsFor(c), c, { trigger: "inline", force: true });
    if (result.status !== "succeeded") throw new Error(`bench inline ${c.id}: ${result.status}`);
  };
  return {
    async rate(inFlight: number): Promise<number> {
      const limit = pLimit(inFlight);
      const started = performance.now();
      await Promise.all(credentials.map((c) => limit(() => rotate(c))));
      return (credentials.length * 1000) / (performance.now() - started);
    },
    close: () => runtime.close(),
  };
}

/** enqueue → start latencies on an idle arm (one job at a time). */
function latencies(arm: Arm, ids: string[]): Promise<number[]> {
  return enqueueToStart(arm.outcomes, LATENCY_N, (i) => {
    const credentialId = ids[i % ids.length]!;
    return {
      jobId: `rotate-${credentialId}`,
      add: () => arm.producer.enqueueRotate({ credentialId, trigger: "on-demand", attempts: 3 }),
    };
  });
}

const ARMS = ["inProc1", "inProc4", "proc1", "proc2"] as const;
type ArmKey = (typeof ARMS)[number];
type QueueKeyType = "p256" | "rsa2048";
/** The arms each key type runs: RSA-2048 only the two worker processes the goal is about. */
const ARMS_OF: Record<QueueKeyType, readonly ArmKey[]> = { p256: ARMS, rsa2048: ["proc2"] };

interface Measured {
  inline1: number[];
  inline4: number[];
  queued: Record<ArmKey, number[]>;
  latency: Record<"inProc" | "proc", number[]>;
  bare: number[];
  /** Keygen + CSR + sign per second in 2 processes (the CPU floor), per round; RSA-2048 only. */
  floor2: number[];
}

/** Every arm on its own queue prefix, all started before measuring (idle workers block on Redis). */
async function openArms(
  redis: RedisServer,
  world: TestWorld,
  keys: readonly ArmKey[],
  keyType: QueueKeyType,
): Promise<Map<ArmKey, Arm>> {
  // each key type's arms on their own prefixes: the P-256 world's jobs never meet the RSA world's
  const cfg = (prefix: string, concurrency: number) =>
    armConfig(
      world.config,
      redis.url,
      keyType === "p256" ? prefix : prefix.replace("{", `{${keyType}-`),
      concurrency,
    );
  const starters: Record<ArmKey, [Config, (config: Config) => () => Promise<() => Promise<void>>]> = {
    inProc1: [cfg("{bench-q1}", 1), inProcess],
    inProc4: [cfg("{bench-q4}", 4), inProcess],
    proc1: [cfg("{bench-p1}", 4), (config) => processes(world, config, 1)],
    proc2: [cfg("{bench-p2}", 4), (config) => processes(world, config, 2)],
  };
  const arms = new Map<ArmKey, Arm>();
  try {
    for (const key of keys) {
      const [config, start] = starters[key];
      arms.set(key, await openArm(redis, config, start(config)));
    }
  } catch (error) {
    for (const arm of arms.values()) await arm.close();
    throw error;
  }
  return arms;
}

async function measure(redis: RedisServer, world: TestWorld, keyType: QueueKeyType): Promise<Measured> {
  const ids = world.credentials.map((c) => c.id);
  const keys = ARMS_OF[keyType];
  const m: Measured = {
    inline1: [],
    inline4: [],
    queued: { inProc1: [], inProc4: [], proc1: [], proc2: [] },
    latency: { inProc: [], proc: [] },
    bare: [],
    floor2: [],
  };
  log(`${keyType}: starting the workers (${keys.join(", ")})`);
  const inline = await openInline(world);
  const arms = await openArms(redis, world, keys, keyType);
  const arm = (key: ArmKey): Arm => arms.get(key)!;
  try {
    await inline.rate(4); // warm-up of every path: connections, JIT, the CA read the issuer caches
    for (const key of keys) await queuedRound(arm(key), ids.slice(0, 4));
    // Rounds alternate inline, every queue arm (and the floor) so load changes hit all of them alike.
    for (let round = 0; round < ROUNDS; round++) {
      m.inline1.push(await inline.rate(1));
      m.inline4.push(await inline.rate(4));
      for (const key of keys) m.queued[key].push(await queuedRound(arm(key), ids));
      if (keyType === "rsa2048") m.floor2.push(await floorRate(keyType, 2, ids.length / 2));
      log(`${keyType} round ${round + 1}/${ROUNDS} (${ids.length} rotations per arm)`);
    }
    if (keyType !== "p256") return m;
    log(`enqueue → start latency: ${LATENCY_N} jobs, in-process worker then worker process`);
    m.latency.inProc = await latencies(arm("inProc1"), ids);
    m.latency.proc = await latencies(arm("proc1"), ids);
    m.bare = await bareHops(redis.url, LATENCY_N);
  } finally {
    for (const opened of arms.values()) await opened.close();
    await inline.close();
  }
  return m;
}

function rsaRows(m: Measured): BenchRow[] {
  return [
    row({
      section: "queue",
      op: "rotations/s rsa2048 via queue, 2 worker processes, concurrency 4 each",
      value: median(m.queued.proc2),
      baseline: median(m.floor2),
      baselineName: "2 processes doing only keygen + CSR + CA sign",
      unit: "ops/s",
      n: ROUNDS * CREDENTIALS,
      notes: `median of per-round rates; floor per round: ${m.floor2.map((r) => r.toFixed(2)).join(", ")}; queue per round: ${m.queued.proc2.map((r) => r.toFixed(2)).join(", ")}; --inline 4 in flight: ${median(m.inline4).toFixed(2)}/s; 2 cores, sandbox bank in the bench process`,
    }),
  ];
}

function rowsOf(m: Measured): BenchRow[] {
  const n = ROUNDS * CREDENTIALS;
  const rate = (op: string, values: number[], baseline: number[], baselineName: string, notes: string) =>
    row({
      section: "queue",
      op,
      value: median(values),
      baseline: median(baseline),
      baselineName,
      unit: "ops/s",
      n,
      notes,
    });
  const perRound =
    "median of per-round rates (all credentials enqueued at once); 2 cores, sandbox bank in the bench process";
  const rows = [
    rate(
      "rotations/s p256 via queue, in-process worker, concurrency 1",
      m.queued.inProc1,
      m.inline1,
      "--inline, one at a time",
      perRound,
    ),
    rate(
      "rotations/s p256 via queue, in-process worker, concurrency 4",
      m.queued.inProc4,
      m.inline4,
      "--inline, 4 in flight",
      perRound,
    ),
    rate(
      "rotations/s p256 via queue, 1 worker process, concurrency 4",
      m.queued.proc1,
      m.inline4,
      "--inline, 4 in flight",
      perRound,
    ),
    rate(
      "rotations/s p256 via queue, 2 worker processes, concurrency 4 each",
      m.queued.proc2,
      m.inline4,
      "--inline, 4 in flight",
      perRound,
    ),
  ];
  const lat = (where: string, values: number[], p: 50 | 99) =>
    row({
      section: "queue",
      op: `enqueue → job start, idle ${where}, ${p === 50 ? "median" : "p99"}`,
      value: percentile(values, p),
      baseline: percentile(m.bare, p),
      baselineName: `bare BullMQ add → idle no-op Worker, ${p === 50 ? "median" : "p99"}`,
      unit: "ms/op",
      n: values.length,
      notes:
        "enqueueRotate called → QueueEvents 'active' received in the bench process; same for the baseline",
    });
  rows.push(lat("in-process worker", m.latency.inProc, 50), lat("in-process worker", m.latency.inProc, 99));
  rows.push(lat("worker process", m.latency.proc, 50), lat("worker process", m.latency.proc, 99));
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const redis = await startRedis();
  try {
    for (const keyType of KEY_TYPES) {
      log(`building a world of ${CREDENTIALS} due ${keyType} credentials`);
      const world = await aWorld({ store: "file", issuer: "local-ca", credentials: CREDENTIALS, keyType });
      try {
        const m = await measure(redis, world, keyType);
        rows.push(...(keyType === "p256" ? rowsOf(m) : rsaRows(m)));
      } finally {
        await world.stop();
      }
    }
  } finally {
    await redis.stop();
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op.padEnd(66)} ${r.value.toFixed(2).padStart(8)} ${r.unit.padEnd(5)}  ${r.baselineName.padEnd(46)} ${r.baseline.toFixed(2).padStart(8)}  ratio ${r.speedup.toFixed(2)}  n=${r.n}`,
    );
  }
}
