/**
 * README § "The worker and its queues": a killed worker's rotations resume on another worker within
 * max(worker.jobLockDuration, worker.rotationLease) + 5 s (jobs/worker.ts `resumeBoundMs`). Measured from
 * the SIGKILL to the first saga step the survivor starts past `plan` (the lease taken again).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { resumeBoundMs } from "../../jobs/worker.js";
import { createProducer } from "../../src/queue/producer.js";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import { queueConfig, RotateWatcher, spawnWorker, stopWorker, writeConfig } from "./helpers.js";

/** Time a loaded 2-core machine may add to the bound (process scheduling, a delayed job's promotion). */
const SCHEDULING_ALLOWANCE_MS = 2_000;

describe("a killed worker's rotations", () => {
  it("resume on another worker within the bound the README states", async (t) => {
    assert.equal(resumeBoundMs({ jobLockDuration: 30_000, rotationLease: 30_000 }), 35_000, "the defaults");
    const redis = await startRedis();
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    const config = queueConfig(world.config, redis.url, { jobLockDuration: 3_000, rotationLease: 4_000 });
    const configPath = await writeConfig(world.dir, config);
    const watcher = await RotateWatcher.start(redis.url, config.redis!.prefix);
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const producer = createProducer(connection, config.redis!.prefix);
    const victim = spawnWorker(configPath);
    let survivor: ReturnType<typeof spawnWorker> | undefined;
    try {
      await victim.ready;
      // the token call of verify hangs: the victim holds the job and the lease while the survivor starts
      world.sandbox.setFaults({ token: { latencyMs: 10_000 } });
      const inVerify = watcher.nextStep("verify");
      await producer.enqueueRotate({ credentialId: "cred-0", trigger: "on-demand", attempts: 5 });
      const jobId = await inVerify;
      survivor = spawnWorker(configPath);
      await survivor.ready;

      const resumed = new Promise<number>((resolve) => {
        const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }): void => {
          const step = (data as { step?: string }).step;
          if (id !== jobId || step === undefined || step === "plan") return;
          watcher.events.off("progress", onProgress);
          resolve(Date.now());
        };
        watcher.events.on("progress", onProgress);
      });
      await stopWorker(victim, "SIGKILL");
      const killedAt = Date.now();
      world.sandbox.setFaults({});
      const elapsed = (await resumed) - killedAt;
      const bound = resumeBoundMs(config.worker);
      t.diagnostic(`resumed ${elapsed} ms after the SIGKILL (bound ${bound} ms)`);
      assert.ok(
        elapsed <= bound + SCHEDULING_ALLOWANCE_MS,
        `resumed ${elapsed} ms after the kill; the README's bound is ${bound} ms`,
      );
      await watcher.until(1);
      assert.equal(watcher.completed.size, 1, [...watcher.failed.values()].join("; "));
      assert.equal(await stopWorker(survivor), 0, survivor.output());
    } finally {
      await stopWorker(victim, "SIGKILL");
      if (survivor) await stopWorker(survivor, "SIGKILL");
      await producer.close();
      connection.disconnect();
      await watcher.close();
      await world.stop();
      await redis.stop();
    }
  });
});
