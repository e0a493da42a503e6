/**
 * consumers-on-old-cert from the worker's retire sweep: a consumer that never reloaded keeps using the old
 * certificate after the grace period, so the sweep keeps it bound; once past maxRetireWait, ops are told
 * once (one notify job however many sweeps see it). A worker on a private redis-server, the sandbox and
 * the rotation on an injected clock, the sweeps added by hand and awaited through queue events.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Config, configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { rotateJobId } from "../../src/queue/names.js";
import type { NotifyJobData } from "../../src/queue/payloads.js";
import { startWorker, type WorkerHandle } from "../../jobs/worker.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { QueueWatch } from "./queue-watch.js";

const HOUR = 3_600_000;

describe("consumers still on the old certificate (retire sweep)", () => {
  const clock = { now: new Date() };
  let redis: RedisServer;
  let world: TestWorld;
  let worker: WorkerHandle;
  let rotations: QueueWatch;
  let retires: QueueWatch;

  before(async () => {
    redis = await startRedis();
    world = await aWorld({
      store: "file",
      issuer: "local-ca",
      now: () => clock.now,
      renewal: { gracePeriod: HOUR, idleBeforeRetire: 15 * 60_000, maxRetireWait: 2 * HOUR },
    });
    const config: Config = configSchema.parse({
      ...world.config,
      redis: { url: redis.url, prefix: "{consumers}", connectTimeout: 5_000 },
      worker: { ...world.config.worker, port: 0 },
    });
    rotations = await QueueWatch.start(redis.url, "rotate", "{consumers}");
    retires = await QueueWatch.start(redis.url, "retire", "{consumers}");
    worker = await startWorker(config, {
      logger: createLogger({ level: "silent" }),
      now: () => clock.now,
      host: "127.0.0.1",
      schedules: false,
    });
  });
  after(async () => {
    await worker.stop();
    await Promise.all([rotations.close(), retires.close()]);
    await world.stop();
    await redis.stop();
  });

  const notices = async (): Promise<NotifyJobData[]> =>
    (
      await worker.producer.queues.notify.getJobs(["waiting", "active", "delayed", "completed", "failed"])
    ).map((job) => job.data as NotifyJobData);

  const sweep = async (): Promise<unknown> => {
    const job = await worker.producer.queues.retire.add("retire-sweep", {});
    const outcome = await retires.next(job.id!);
    assert.equal(outcome.status, "completed");
    return outcome.status === "completed" ? outcome.value : undefined;
  };

  it("keeps the old cert bound while it is used, and alerts once past maxRetireWait", async () => {
    const credential = await worker.runtime.credential("cred-0");
    const deps = worker.runtime.depsFor(credential);
    const old = (await deps.store.readCurrent(credential.ref)).material;
    const done = rotations.next(rotateJobId("cred-0"));
    await worker.producer.enqueueRotate({ credentialId: "cred-0", trigger: "on-demand", attempts: 2 });
    const rotated = await done;
    assert.equal(rotated.status, "completed");
    assert.equal((rotated.value as { status: string }).status, "retire-due");

    const consumer = () =>
      deps.bank.requestToken(
        { certPem: old.certPem, keyPem: old.keyPem },
        { clientId: world.credentials[0]!.clientId, clientSecret: world.credentials[0]!.clientSecret },
      );
    clock.now = new Date(clock.now.getTime() + HOUR + 1_000);
    await consumer();
    assert.deepEqual(await sweep(), { status: "swept", count: 1 });
    assert.equal(world.sandbox.boundCertificates(world.credentials[0]!.clientId).length, 2);
    assert.deepEqual(await notices(), [], "still within maxRetireWait: waiting, no alert");

    clock.now = new Date(clock.now.getTime() + 2 * HOUR);
    await consumer();
    await sweep();
    await consumer();
    await sweep();
    const raised = (await notices()).filter((n) => n.kind === "consumers-on-old-cert");
    assert.equal(raised.length, 1, "two sweeps past the bound: one alert");
    assert.equal(raised[0]!.errorCode, "CONSUMERS_ON_OLD_CERT");
    assert.equal(raised[0]!.episode, "certrotor/cred-0/consumers-on-old-cert");
    assert.equal(raised[0]!.fingerprint, old.fingerprint);
    assert.ok(
      world.sandbox
        .boundCertificates(world.credentials[0]!.clientId)
        .some((b) => b.certificate.fingerprint === old.fingerprint),
      "the old cert stays bound",
    );
  });
});
