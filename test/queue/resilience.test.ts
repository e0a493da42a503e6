import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Queue } from "bullmq";
import { createLogger } from "../../src/observability/logger.js";
import { createProducer } from "../../src/queue/producer.js";
import { startWorker } from "../../jobs/worker.js";
import { createRuntime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import { dumpRedis, queueConfig, RotateWatcher, spawnWorker, stopWorker, writeConfig } from "./helpers.js";
import { Redis } from "ioredis";

const silent = createLogger({ level: "silent" });

async function assertAllRotated(world: TestWorld): Promise<string[]> {
  const runtime = await createRuntime(world.config, { logger: silent });
  const secrets: string[] = [];
  try {
    for (const c of world.credentials) {
      const credential = await runtime.credential(c.id);
      const deps = runtime.depsFor(credential);
      const current = await deps.store.readCurrent(credential.ref);
      assert.notEqual(current.material.fingerprint, c.fingerprint, `${c.id} was rotated`);
      assert.deepEqual(
        (await requireSlots(deps.bank).listSlots(c.clientId)).map((s) => s.fingerprint),
        [current.material.fingerprint],
      );
      assert.deepEqual(
        await invariantViolations({
          store: deps.store,
          bank: deps.bank,
          ref: credential.ref,
          clientId: c.clientId,
        }),
        [],
      );
      const token = await deps.bank.requestToken(current.material, {
        clientId: c.clientId,
        clientSecret: c.clientSecret,
      });
      secrets.push(
        c.clientSecret,
        current.material.keyPem.split("\n")[1]!,
        current.material.pfxBase64!.slice(100, 160),
        current.material.pfxPassphrase!,
        token.accessToken,
      );
    }
  } finally {
    await runtime.close();
  }
  return secrets;
}

describe("worker resilience", () => {
  it("finishes the rotations of a SIGKILLed worker on another worker (stalled jobs resume), invariants intact", async () => {
    const redis = await startRedis();
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 6 });
    const config = queueConfig(world.config, redis.url, { concurrency: 2 });
    const configPath = await writeConfig(world.dir, config);
    const watcher = await RotateWatcher.start(redis.url, config.redis!.prefix);
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const producer = createProducer(connection, config.redis!.prefix);
    const victim = spawnWorker(configPath);
    let survivor: ReturnType<typeof spawnWorker> | undefined;
    try {
      await victim.ready;
      const midRotation = watcher.nextStep("register");
      for (const c of world.credentials)
        await producer.enqueueRotate({ credentialId: c.id, trigger: "schedule", attempts: 5 });
      await midRotation;
      await stopWorker(victim, "SIGKILL");
      survivor = spawnWorker(configPath);
      await survivor.ready;
      await watcher.until(6);
      assert.equal(watcher.failed.size, 0, [...watcher.failed.values()].join("; "));
      await assertAllRotated(world);
      assert.equal(await stopWorker(survivor), 0);
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

  it("survives a Redis restart in the middle of rotations and completes them", async () => {
    const redis = await startRedis({ persistent: true });
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 6 });
    const config = queueConfig(world.config, redis.url, { concurrency: 2 });
    const watcher = await RotateWatcher.start(redis.url, config.redis!.prefix);
    const worker = await startWorker(config, {
      logger: silent,
      port: 0,
      host: "127.0.0.1",
      schedules: false,
    });
    try {
      const midRotation = watcher.nextStep("verify");
      for (const c of world.credentials)
        await worker.producer.enqueueRotate({ credentialId: c.id, trigger: "schedule", attempts: 8 });
      await midRotation;
      await redis.restart();
      await watcher.until(6);
      assert.equal(watcher.failed.size, 0, [...watcher.failed.values()].join("; "));
      await assertAllRotated(world);
    } finally {
      await worker.stop();
      await watcher.close();
      await world.stop();
      await redis.stop();
    }
  });

  it("turns a rotation that exhausts its attempts into exactly one notify job, and leaves no secret in Redis", async () => {
    const redis = await startRedis();
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 2 });
    const config = queueConfig(
      { ...world.config, banks: { sandbox: { ...world.config.banks.sandbox!, retries: 0 } } },
      redis.url,
    );
    const watcher = await RotateWatcher.start(redis.url, config.redis!.prefix);
    const worker = await startWorker(config, {
      logger: silent,
      port: 0,
      host: "127.0.0.1",
      schedules: false,
    });
    const notify = new Queue("notify", { connection: { url: redis.url }, prefix: config.redis!.prefix });
    try {
      // cred-1 succeeds; cred-0's token calls all answer 503 while it rotates
      await worker.producer.enqueueRotate({ credentialId: "cred-1", trigger: "schedule", attempts: 3 });
      await watcher.until(1);
      world.sandbox.setFaults({ token: { failRate: 1, failStatus: 503 } });
      await worker.producer.enqueueRotate({ credentialId: "cred-0", trigger: "schedule", attempts: 3 });
      await watcher.until(2);
      world.sandbox.setFaults({});
      assert.equal(watcher.failed.size, 1);
      assert.match(watcher.failed.get("rotate-cred-0") ?? "", /BANK_UNAVAILABLE/);
      const notices = await notify.getJobs(["waiting", "active", "completed", "delayed", "failed"]);
      assert.equal(notices.length, 1, "one notify job for the whole failure");
      assert.equal(notices[0]!.data.errorCode, "BANK_UNAVAILABLE");
      assert.equal(notices[0]!.data.credentialId, "cred-0");
      const record = await worker.runtime.journal.latest("cred-0");
      assert.equal(record?.status, "rolled-back");
      assert.equal(record?.attempts, 3);

      // the failed credential still has its old material, current and working
      const runtime = await createRuntime(world.config, { logger: silent });
      let secrets: string[] = [];
      try {
        const credential = await runtime.credential("cred-0");
        const deps = runtime.depsFor(credential);
        assert.equal(
          (await deps.store.readCurrent(credential.ref)).material.fingerprint,
          world.credentials[0]!.fingerprint,
        );
        assert.deepEqual(
          await invariantViolations({
            store: deps.store,
            bank: deps.bank,
            ref: credential.ref,
            clientId: world.credentials[0]!.clientId,
          }),
          [],
        );
      } finally {
        await runtime.close();
      }
      secrets = await assertAllRotated({ ...world, credentials: [world.credentials[1]!] });
      secrets.push(world.credentials[0]!.clientSecret);
      const everything = await dumpRedis(redis.url);
      assert.ok(everything.length > 1000, "redis holds the queue and journal");
      for (const secret of secrets)
        assert.ok(!everything.includes(secret), "a secret value was found in Redis");
    } finally {
      await notify.close();
      await worker.stop();
      await watcher.close();
      await world.stop();
      await redis.stop();
    }
  });
});
