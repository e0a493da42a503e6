/**
 * Helpers of the Redis deployment tests (cluster, Sentinel, ACL, TLS): a world whose bank is watched at
 * every bind and unbind, configs for each redis: form, /readyz followed through a failover, the check
 * that every credential was rotated with its invariants intact, and the Redis error lines of a log.
 */
import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { type BankWatch, watchBank } from "../../bench/soak/bank-watch.js";
import type { Config, RedisConfig } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { createProducer, type Producer } from "../../src/queue/producer.js";
import { closeConnection, type RedisClient, redisConnection } from "../../src/redis/connection.js";
import { createRuntime } from "../../src/runtime.js";
import { pollUntil } from "../../src/util/poll.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld, type WorldOptions } from "../fixtures/world.js";
import {
  bounded,
  RotateWatcher,
  spawnWorker,
  stopWorker,
  type WorkerProcess,
  writeConfig,
} from "../queue/helpers.js";

export const silent = createLogger({ level: "silent" });

/** How long each of the bank's admin calls (bind, list, unbind) is held while a failover is under way. */
const HOLD_AT_BANK_MS = 1_500;

export interface WatchedWorld extends TestWorld {
  /** The bank's own record: a violation the instant more than 2 certificates are bound, or none. */
  bank: BankWatch;
}

/** A world of P-256 credentials on the file store whose bank is checked at every bind and unbind. */
export async function aWatchedWorld(options: Partial<WorldOptions> = {}): Promise<WatchedWorld> {
  const bank = watchBank();
  const world = await aWorld({
    store: "file",
    issuer: "local-ca",
    keyType: "p256",
    ...options,
    onBankRequest: (entry) => bank.onRequest(entry),
  });
  bank.attach(world.sandbox);
  return { ...world, bank };
}

/** `config` on this redis: section, with a worker that takes a stalled job over within seconds. */
export function onRedis(
  config: Config,
  redis: Partial<RedisConfig>,
  worker: Partial<Config["worker"]> = {},
): Config {
  return {
    ...config,
    redis: { prefix: "{certrotor}", connectTimeout: 5_000, ...redis },
    worker: {
      ...config.worker,
      port: 0,
      host: "127.0.0.1",
      jobLockDuration: 5_000,
      rotationLease: 10_000,
      shutdownTimeout: 10_000,
      ...worker,
    },
  };
}

/** A producer on its own connection (closed with it). */
export function producerOn(settings: RedisConfig): { producer: Producer; close(): Promise<void> } {
  const connection: RedisClient = redisConnection(settings, "command");
  connection.on("error", () => undefined);
  const producer = createProducer(connection, settings.prefix);
  return {
    producer,
    async close() {
      await producer.close();
      await closeConnection(connection);
    },
  };
}

/** Enqueues a rotation of every credential of the world. */
export async function enqueueAll(producer: Producer, world: TestWorld): Promise<void> {
  for (const c of world.credentials) {
    const queued = await producer.enqueueRotate({ credentialId: c.id, trigger: "schedule", attempts: 10 });
    assert.equal(queued.added, true);
  }
}

/**
 * Resolves once every credential's latest rotation in the journal succeeded, read through a fresh runtime
 * on `config` (so through the same Redis form as the workers), polled with a bound.
 */
export async function allSucceeded(config: Config, world: TestWorld, timeoutMs = 120_000): Promise<void> {
  const runtime = await createRuntime(config, { logger: silent });
  try {
    await pollUntil(
      async () => {
        const latest = await Promise.all(world.credentials.map((c) => runtime.journal.latest(c.id)));
        return latest.every((record) => record?.status === "succeeded") ? true : undefined;
      },
      { timeoutMs, everyMs: 250, what: `every one of ${world.credentials.length} rotations to succeed` },
    );
  } finally {
    await runtime.close();
  }
}

/**
 * Every credential carries a new certificate, alone at the bank, with the invariants 1–3 of docs/design.md, and the
 * bank never had more than 2 certificates bound (nor none) at any instant.
 */
export async function assertAllRotated(world: WatchedWorld): Promise<void> {
  const runtime = await createRuntime(world.config, { logger: silent });
  try {
    for (const c of world.credentials) {
      const credential = await runtime.credential(c.id);
      const deps = runtime.depsFor(credential);
      const current = await deps.store.readCurrent(credential.ref);
      assert.notEqual(current.material.fingerprint, c.fingerprint, `${c.id} was rotated`);
      assert.deepEqual(
        (await requireSlots(deps.bank).listSlots(c.clientId)).map((s) => s.fingerprint),
        [current.material.fingerprint],
        `${c.id}: only the new certificate is bound`,
      );
      assert.deepEqual(
        await invariantViolations({
          store: deps.store,
          bank: deps.bank,
          ref: credential.ref,
          clientId: c.clientId,
        }),
        [],
        `invariants of ${c.id}`,
      );
    }
  } finally {
    await runtime.close();
  }
  assert.deepEqual(world.bank.violations, [], "the bank never had more than 2 (or no) certificates bound");
}

export interface ReadinessTrace {
  /** Each change of /readyz's status code, in order, with what it said. */
  readonly changes: Array<{ status: number; at: number; body: string }>;
  stop(): Promise<void>;
}

/** Follows a worker's /readyz (every 100 ms) and records each change of its answer. */
export function traceReadiness(port: number): ReadinessTrace {
  const changes: ReadinessTrace["changes"] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const answer = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3_000) })
        .then(async (response) => ({ status: response.status, body: await response.text() }))
        .catch((error: unknown) => ({ status: 0, body: String(error) }));
      if (changes.at(-1)?.status !== answer.status) changes.push({ ...answer, at: Date.now() });
      await sleep(100);
    }
  })();
  return {
    changes,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The port a spawned worker printed it listens on. */
export function listeningPort(output: string): number {
  const port = /certrotor worker: listening on :(\d+)/.exec(output)?.[1];
  if (!port) throw new Error(`no listening line in: ${output}`);
  return Number(port);
}

/** Lines of a worker's log that report a Redis error (raw, or through the bounded error log). */
export function redisErrorLines(output: string): string[] {
  return output
    .split("\n")
    .filter((line) =>
      /MOVED|READONLY|CLUSTERDOWN|TRYAGAIN|ECONNREFUSED|Connection is closed|redirections|redis error|sentinel/i.test(
        line,
      ),
    );
}

/** When each step started or job completed, as the queue's events tell. */
function recordActivity(watcher: RotateWatcher): number[] {
  const times: number[] = [];
  watcher.events.on("progress", () => times.push(Date.now()));
  watcher.events.on("completed", () => times.push(Date.now()));
  return times;
}

/**
 * Two worker processes rotate every credential of `world` while `failover` kills the master in the
 * middle (once the first rotation reached `register`). Then: every rotation succeeded with the
 * invariants intact and never more than 2 certificates bound; rotations went on within 30 s of the
 * promotion; /readyz of a worker was ready, not ready during the failover, and ready again; each worker
 * logged the failover in fewer than 100 Redis error lines, and stopped cleanly.
 */
export async function rotateThroughFailover(
  world: WatchedWorld,
  config: Config,
  failover: () => Promise<{ promotedAt: number; ms: number }>,
): Promise<void> {
  const settings = config.redis!;
  const configPath = await writeConfig(world.dir, config);
  const { producer, close } = producerOn(settings);
  const watcher = await RotateWatcher.start(settings, settings.prefix);
  const workers: WorkerProcess[] = [spawnWorker(configPath), spawnWorker(configPath)];
  let readiness: ReadinessTrace | undefined;
  try {
    await Promise.all(workers.map((w) => w.ready));
    readiness = traceReadiness(listeningPort(workers[0]!.output()));
    const activity = recordActivity(watcher);
    const midRotation = watcher.nextStep("register");
    // every rotation is still in flight when the master dies: each waits at the bank in register, so
    // none can finish in the moment between the first register and the kill (on a loaded machine all
    // six once did, and nothing was left to resume after the promotion)
    world.sandbox.setFaults({ admin: { latencyMs: HOLD_AT_BANK_MS } });
    await enqueueAll(producer, world);
    await bounded(midRotation, 60_000, "the first rotation to reach register");

    const { promotedAt, ms } = await failover();
    world.sandbox.setFaults({});
    await allSucceeded(config, world);
    const resumedAt = activity.find((at) => at > promotedAt);
    assert.ok(resumedAt !== undefined, "rotations made progress after the promotion");
    assert.ok(
      resumedAt - promotedAt < 30_000,
      `rotations went on ${resumedAt - promotedAt} ms after the promotion (failover took ${ms} ms)`,
    );
    await readiness.stop();
    const statuses = readiness.changes.map((c) => c.status);
    const trace = JSON.stringify(readiness.changes.map(({ status, body }) => ({ status, body })));
    assert.equal(statuses[0], 200, trace);
    assert.ok(statuses.includes(503), `not ready during the failover: ${trace}`);
    assert.equal(statuses.at(-1), 200, `ready again: ${trace}`);

    await assertAllRotated(world);
    for (const worker of workers) {
      assert.equal(await stopWorker(worker), 0, worker.output());
      const lines = redisErrorLines(worker.output());
      assert.ok(lines.length > 0, "the failover was logged");
      assert.ok(lines.length < 100, `${lines.length} Redis error lines:\n${lines.slice(0, 20).join("\n")}`);
    }
  } finally {
    await readiness?.stop();
    for (const worker of workers) await stopWorker(worker, "SIGKILL");
    await watcher.close();
    await close();
  }
}
