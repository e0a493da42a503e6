import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { createLogger } from "../../src/observability/logger.js";
import { createProducer } from "../../src/queue/producer.js";
import { startWorker, type WorkerHandle } from "../../jobs/worker.js";
import { createRuntime } from "../../src/runtime.js";
import { days } from "../fixtures/pki.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import {
  queueConfig,
  RotateWatcher,
  spawnWorker,
  stopWorker,
  type WorkerProcess,
  writeConfig,
} from "./helpers.js";

const silent = createLogger({ level: "silent" });

/** Current fingerprints and rotation ids of every credential, read through a fresh runtime. */
async function storeView(world: TestWorld) {
  const runtime = await createRuntime(world.config, { logger: silent });
  try {
    const view = new Map<
      string,
      { fingerprint: string; rotationId?: string; version: string; bound: string[] }
    >();
    for (const c of world.credentials) {
      const credential = await runtime.credential(c.id);
      const deps = runtime.depsFor(credential);
      const current = await deps.store.readCurrent(credential.ref);
      const bound = (await requireSlots(deps.bank).listSlots(c.clientId)).map((s) => s.fingerprint);
      view.set(c.id, {
        fingerprint: current.material.fingerprint,
        ...(current.material.rotationId ? { rotationId: current.material.rotationId } : {}),
        version: current.version,
        bound,
      });
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
    return view;
  } finally {
    await runtime.close();
  }
}

/** Resolves once the worker's output (stdout and stderr) holds `text`. */
function outputIncludes(worker: WorkerProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!worker.output().includes(text)) return;
      worker.child.stdout!.off("data", check);
      worker.child.stderr!.off("data", check);
      resolve();
    };
    worker.child.stdout!.on("data", check);
    worker.child.stderr!.on("data", check);
    check();
  });
}

async function withRedis<T>(run: (redis: RedisServer) => Promise<T>, persistent = false): Promise<T> {
  const redis = await startRedis({ persistent });
  try {
    return await run(redis);
  } finally {
    await redis.stop();
  }
}

describe("the queue worker", () => {
  it("runs the scheduled scan and rotates exactly the due credentials among 50, leaving the others untouched", async () => {
    await withRedis(async (redis) => {
      const world = await aWorld({
        store: "file",
        issuer: "local-ca",
        credentials: 50,
        expiresInMs: (i) => (i % 5 === 0 ? days(3) : days(80)),
      });
      let worker: WorkerHandle | undefined;
      const watcher = await RotateWatcher.start(redis.url, "{certrotor}");
      try {
        const before = await storeView(world);
        const config = {
          ...queueConfig(world.config, redis.url),
          schedules: { ...world.config.schedules, scan: "* * * * * *" },
        };
        worker = await startWorker(config, { logger: silent, port: 0, host: "127.0.0.1" });
        await watcher.until(10);
        await worker.stop();
        worker = undefined;
        assert.equal(watcher.failed.size, 0, [...watcher.failed.values()].join("; "));
        const after = await storeView(world);
        world.credentials.forEach((c, i) => {
          const was = before.get(c.id)!;
          const now = after.get(c.id)!;
          if (i % 5 === 0) {
            assert.notEqual(now.fingerprint, was.fingerprint, `${c.id} is due and was rotated`);
            assert.deepEqual(now.bound, [now.fingerprint]);
          } else {
            assert.equal(now.version, was.version, `${c.id} is not due and was left alone`);
            assert.deepEqual(now.bound, was.bound);
          }
        });
        assert.equal(watcher.completed.size, 10);
      } finally {
        await worker?.stop();
        await watcher.close();
        await world.stop();
      }
    });
  });

  it("rotates a credential that is not due on demand, and repeated enqueues while it runs add nothing", async () => {
    await withRedis(async (redis) => {
      const world = await aWorld({ store: "file", issuer: "local-ca", expiresInMs: () => days(80) });
      const watcher = await RotateWatcher.start(redis.url, "{certrotor}");
      const worker = await startWorker(queueConfig(world.config, redis.url), {
        logger: silent,
        port: 0,
        host: "127.0.0.1",
        schedules: false,
      });
      try {
        const first = await worker.producer.enqueueRotate({
          credentialId: "cred-0",
          trigger: "on-demand",
          attempts: 3,
        });
        assert.equal(first.added, true);
        await watcher.nextStep("register");
        const again = await worker.producer.enqueueRotate({
          credentialId: "cred-0",
          trigger: "on-demand",
          attempts: 3,
        });
        assert.equal(again.added, false);
        assert.equal(again.rotationId, first.rotationId);
        await watcher.until(1);
        assert.equal(watcher.completed.size, 1);
        const history = await worker.runtime.journal.history("cred-0", 10);
        assert.equal(history.length, 1);
        assert.equal(history[0]!.status, "succeeded");
        assert.equal(history[0]!.rotationId, first.rotationId);
      } finally {
        await worker.stop();
        await watcher.close();
        await world.stop();
      }
    });
  });

  it("stops gracefully with exit 0 on a SIGTERM that arrives while it is still starting, or as it comes up", async () => {
    await withRedis(async (redis) => {
      const world = await aWorld({ store: "file", issuer: "local-ca" });
      try {
        const configPath = await writeConfig(world.dir, queueConfig(world.config, redis.url));
        for (const marker of ["certrotor worker: starting", "certrotor worker: listening"]) {
          const worker = spawnWorker(configPath);
          await outputIncludes(worker, marker);
          const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
            worker.child.once("exit", (c, s) => resolve([c, s]));
            worker.child.kill("SIGTERM");
          });
          assert.deepEqual([code, signal], [0, null], `SIGTERM at "${marker}": ${worker.output()}`);
        }
      } finally {
        await world.stop();
      }
    });
  });

  it("waits for a Redis that is down when it starts, comes up with it, and stops cleanly", async () => {
    await withRedis(async (redis) => {
      const world = await aWorld({ store: "file", issuer: "local-ca" });
      try {
        const configPath = await writeConfig(world.dir, queueConfig(world.config, redis.url));
        await redis.down();
        const worker = spawnWorker(configPath);
        await outputIncludes(worker, "Redis is not reachable yet; waiting for it");
        await redis.up();
        await worker.ready;
        assert.equal(await stopWorker(worker), 0, worker.output());

        // a stop signal while it waits ends it at once, cleanly
        await redis.down();
        const waiting = spawnWorker(configPath);
        await outputIncludes(waiting, "waiting for it");
        assert.equal(await stopWorker(waiting), 0, waiting.output());
        assert.match(waiting.output(), /stopped before it started/);

        // past worker.startupTimeout it gives up with the one-line REDIS_UNAVAILABLE error
        const impatient = await writeConfig(
          world.dir,
          queueConfig(world.config, redis.url, { startupTimeout: 1_000 }),
          "impatient.json",
        );
        const givingUp = spawnWorker(impatient);
        const [code] = (await once(givingUp.child, "exit")) as [number | null];
        assert.equal(code, 69, givingUp.output());
        assert.match(
          givingUp.output(),
          /REDIS_UNAVAILABLE: Redis at redis:\/\/127\.0\.0\.1:\d+\/? is not reachable/,
        );
      } finally {
        await world.stop();
      }
    });
  });

  it("shares 30 due credentials among three worker processes: each rotated exactly once, no lock conflict fails a job", async () => {
    await withRedis(async (redis) => {
      const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 30 });
      const config = queueConfig(world.config, redis.url, { concurrency: 3 });
      const configPath = await writeConfig(world.dir, config);
      const watcher = await RotateWatcher.start(redis.url, config.redis!.prefix);
      const workers = [spawnWorker(configPath), spawnWorker(configPath), spawnWorker(configPath)];
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      const producer = createProducer(connection, config.redis!.prefix);
      try {
        await Promise.all(workers.map((w) => w.ready));
        for (const c of world.credentials) {
          const queued = await producer.enqueueRotate({
            credentialId: c.id,
            trigger: "schedule",
            attempts: 3,
          });
          assert.equal(queued.added, true);
        }
        await watcher.until(30);
        assert.equal(watcher.failed.size, 0, [...watcher.failed.values()].join("; "));
        const view = await storeView(world);
        const runtime = await createRuntime(config, { logger: silent });
        try {
          for (const c of world.credentials) {
            const now = view.get(c.id)!;
            assert.notEqual(now.fingerprint, c.fingerprint);
            assert.deepEqual(now.bound, [now.fingerprint]);
            const history = await runtime.journal.history(c.id, 10);
            assert.equal(history.length, 1, `${c.id} rotated exactly once`);
            assert.equal(history[0]!.status, "succeeded");
          }
        } finally {
          await runtime.close();
        }
        for (const w of workers) assert.equal(await stopWorker(w), 0, `graceful exit: ${w.output()}`);
      } finally {
        for (const w of workers) await stopWorker(w, "SIGKILL");
        await producer.close();
        connection.disconnect();
        await watcher.close();
        await world.stop();
      }
    });
  });
});
