/**
 * Queue section: P-256 rotations/s through BullMQ (producer `enqueueRotate` → worker → saga) with one
 * in-process worker (`startWorker`), one and two worker processes (`certrotor worker`), beside `--inline`
 * rotations (runRotation) measured in the same run: the ratio is the queue's overhead (or, with two
 * processes, its gain). Plus the latency from `enqueueRotate` to the job starting on an idle worker,
 * beside a bare BullMQ hop (add → idle no-op Worker) measured the same way on the same redis-server.
 * File store, local CA and the bank sandbox (in this process) as in the rotation section.
 *
 *   node --import tsx bench/queue.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import pLimit from "p-limit";
import type { Config } from "../src/config/schema.js";
import { createLogger } from "../src/observability/logger.js";
import { producerConnection } from "../src/queue/connection.js";
import { createProducer, type Producer } from "../src/queue/producer.js";
import { startWorker } from "../src/queue/worker.js";
import { runRotation } from "../src/rotation/run.js";
import { createRuntime } from "../src/runtime.js";
import { type RedisServer, startRedis } from "../src/util/redis-server.js";
import { aWorld, type TestWorld } from "../test/fixtures/world.js";
import { spawnWorker, stopWorker, writeConfig } from "../test/queue/helpers.js";
import { type BenchRow, median, percentile, quick, row } from "./lib.js";
import { armConfig, bareHops, enqueueToStart, Outcomes } from "./queue-lib.js";

const CREDENTIALS = quick ? 12 : 60;
const ROUNDS = quick ? 1 : 2;
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
  const connection = producerConnection(redis.url);
  connection.on("error", () => undefined);
  const producer = createProducer(connection, config.worker.queuePrefix);
  const outcomes = await Outcomes.start(redis.url, "rotate", config.worker.queuePrefix);
  const stopWorkers = await workers();
  return {
    producer,
    outcomes,
    async close() {
      await stopWorkers();
      await producer.close();
      await outcomes.close();
      connection.disconnect();
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

async function inlineRates(world: TestWorld, inFlight: number): Promise<number[]> {
  const runtime = await createRuntime(world.config, { logger: silent });
  try {
    const credentials = await Promise.all(world.credentials.map((c) => runtime.credential(c.id)));
    const rotate = async (i: number): Promise<void> => {
      const c = credentials[i]!;
      const result = await runRotation(runtime.depsFor(c), c, { trigger: "inline", force: true });
      if (result.status !== "succeeded") throw new Error(`bench inline ${c.id}: ${result.status}`);
    };
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const limit = pLimit(inFlight);
      const started = performance.now();
      await Promise.all(credentials.map((_, i) => limit(() => rotate(i))));
      rates.push((credentials.length * 1000) / (performance.now() - started));
    }
    return rates;
  } finally {
    await runtime.close();
  }
}

async function queuedRates(arm: Arm, ids: string[]): Promise<number[]> {
  await queuedRound(arm, ids.slice(0, 2)); // warm-up: connections, first jobs
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) rates.push(await queuedRound(arm, ids));
  return rates;
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

interface Measured {
  inline1: number[];
  inline4: number[];
  queued: Record<"inProc1" | "inProc4" | "proc1" | "proc2", number[]>;
  latency: Record<"inProc" | "proc", number[]>;
  bare: number[];
}

async function measure(redis: RedisServer, world: TestWorld): Promise<Measured> {
  const ids = world.credentials.map((c) => c.id);
  const m: Measured = {
    inline1: [],
    inline4: [],
    queued: { inProc1: [], inProc4: [], proc1: [], proc2: [] },
    latency: { inProc: [], proc: [] },
    bare: [],
  };
  const arm = async (
    key: keyof Measured["queued"],
    config: Config,
    start: () => Promise<() => Promise<void>>,
  ) => {
    log(`${key}: ${ROUNDS} round(s) of ${ids.length} rotations`);
    const opened = await openArm(redis, config, start);
    try {
      m.queued[key] = await queuedRates(opened, ids);
      if (key === "inProc1") m.latency.inProc = await latencies(opened, ids);
      if (key === "proc1") m.latency.proc = await latencies(opened, ids);
    } finally {
      await opened.close();
    }
  };
  log(`inline: ${ROUNDS} round(s) of ${ids.length} rotations, 1 and 4 in flight`);
  m.inline1 = await inlineRates(world, 1);
  m.inline4 = await inlineRates(world, 4);
  const cfg = (prefix: string, concurrency: number) =>
    armConfig(world.config, redis.url, prefix, concurrency);
  await arm("inProc1", cfg("{bench-q1}", 1), inProcess(cfg("{bench-q1}", 1)));
  await arm("inProc4", cfg("{bench-q4}", 4), inProcess(cfg("{bench-q4}", 4)));
  await arm("proc1", cfg("{bench-p1}", 4), processes(world, cfg("{bench-p1}", 4), 1));
  await arm("proc2", cfg("{bench-p2}", 4), processes(world, cfg("{bench-p2}", 4), 2));
  log(`bare BullMQ hops: ${LATENCY_N}`);
  m.bare = await bareHops(redis.url, LATENCY_N);
  return m;
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
  log(`building a world of ${CREDENTIALS} due p256 credentials`);
  const redis = await startRedis();
  let world: TestWorld | undefined;
  try {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: CREDENTIALS, keyType: "p256" });
    return rowsOf(await measure(redis, world));
  } finally {
    await world?.stop();
    await redis.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op.padEnd(66)} ${r.value.toFixed(2).padStart(8)} ${r.unit.padEnd(5)}  ${r.baselineName.padEnd(46)} ${r.baseline.toFixed(2).padStart(8)}  ratio ${r.speedup.toFixed(2)}  n=${r.n}`,
    );
  }
}
