import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { createLogger } from "../../src/observability/logger.js";
import { createProducer } from "../../src/queue/producer.js";
import { createRuntime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import {
  queueConfig,
  RotateWatcher,
  spawnWorker,
  stopWorker,
  writeConfig,
  type WorkerProcess,
} from "./helpers.js";

const KILLS = 5;

describe("a rotate job whose workers keep dying", () => {
  it("is resumed after every SIGKILL, past BullMQ's default stall limit, and completes the rotation", async () => {
    const redis = await startRedis();
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    const config = queueConfig(world.config, redis.url, { concurrency: 1 });
    const configPath = await writeConfig(world.dir, config);
    const watcher = await RotateWatcher.start(redis.url, config.redis!.prefix);
    let stalls = 0;
    watcher.events.on("stalled", () => {
      stalls++;
    });
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const producer = createProducer(connection, config.redis!.prefix);
    const workers: WorkerProcess[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        // every attempt, first or resumed, starts "generate" after plan: the job is active and holds its lock
        // (listening before the worker starts: it may resume the stalled job before it prints that it is up)
        const started = watcher.nextStep("generate");
        const worker = spawnWorker(configPath);
        workers.push(worker);
        await worker.ready;
        if (kill === 0)
          await producer.enqueueRotate({ credentialId: "cred-0", trigger: "schedule", attempts: 3 });
        // a job the queue gave up on settles instead of starting again: stop killing and report it below
        if ((await Promise.race([started, watcher.until(1).then(() => "settled")])) === "settled") break;
        await stopWorker(worker, "SIGKILL");
      }
      const survivor = spawnWorker(configPath);
      workers.push(survivor);
      await watcher.until(1);
      assert.deepEqual([...watcher.failed.values()], []);
      assert.equal(
        (watcher.completed.get("rotate-cred-0") as { status?: string } | undefined)?.status,
        "succeeded",
      );
      assert.ok(stalls >= 4, `the job stalled ${stalls} times, more than BullMQ's default limit of 3`);

      const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
      try {
        const credential = await runtime.credential("cred-0");
        const deps = runtime.depsFor(credential);
        const current = await deps.store.readCurrent(credential.ref);
        assert.notEqual(current.material.fingerprint, world.credentials[0]!.fingerprint);
        assert.deepEqual(
          (await requireSlots(deps.bank).listSlots(world.credentials[0]!.clientId)).map((s) => s.fingerprint),
          [current.material.fingerprint],
        );
        assert.deepEqual(
          await invariantViolations({
            ...deps,
            ref: credential.ref,
            clientId: world.credentials[0]!.clientId,
          }),
          [],
        );
      } finally {
        await runtime.close();
      }
      assert.equal(await stopWorker(survivor), 0);
    } finally {
      for (const worker of workers) await stopWorker(worker, "SIGKILL");
      await producer.close();
      connection.disconnect();
      await watcher.close();
      await world.stop();
      await redis.stop();
    }
  });
});
