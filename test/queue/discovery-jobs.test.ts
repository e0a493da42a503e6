/**
 * Discovered credentials through the worker's queues (a worker in this process, a private redis-server,
 * the sandbox bank, the file store): the scan hands each due credential's reference down to its rotate
 * job, the discovery rule's renewal policy sets the job's attempts and the queue's retry delay, a job
 * queued by an older version (no reference) still runs and gets the same delay, the retire job carries
 * the reference on, and `certrotor rotate` queues it too. Job data holds no secret.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import type { ScanResult } from "../../jobs/scan.js";
import { startWorker, type WorkerHandle } from "../../jobs/worker.js";
import type { Config } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { retireJobId, rotateJobId } from "../../src/queue/names.js";
import { type RotateJobData, retireJobData, rotateJobData } from "../../src/queue/payloads.js";
import { discoveryRuleKey } from "../../src/rotation/credentials.js";
import { QueueWatch } from "../alerts/queue-watch.js";
import { certrotor } from "../fixtures/cli.js";
import { aWorld, type TestWorld, withWorldFileStore, worldDiscovery } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { dumpRedis, queueConfig, writeConfig } from "./helpers.js";

const PREFIX = "{discovery-jobs}";
const MINUTE = 60_000;
// the world's own policy retries after 100 ms, 3 attempts, and retires at once
const rule = worldDiscovery({
  attempts: 4,
  backoff: 20 * MINUTE,
  backoffMax: 60 * MINUTE,
  gracePeriod: 60 * MINUTE,
});
const IDS = ["certrotor-cred-0", "certrotor-cred-1"];
const reference = (i: number) => ({
  rule: discoveryRuleKey(rule),
  store: "main",
  path: `certrotor/cred-${i}`,
});

describe("discovered credentials on the queues", () => {
  let redis: RedisServer;
  let world: TestWorld;
  let config: Config;
  let worker: WorkerHandle;
  let rotations: QueueWatch;
  let scans: QueueWatch;
  let connection: Redis;
  let rotateQueue: Queue;

  before(async () => {
    redis = await startRedis();
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 2 });
    const base = queueConfig(world.config, redis.url, {}, PREFIX);
    config = {
      ...base,
      credentials: [],
      discovery: [rule],
      // a failing bank call fails its step at once (the queue's retry is what is looked at here)
      banks: { sandbox: { ...base.banks.sandbox!, retries: 0 } },
    };
    rotations = await QueueWatch.start(redis.url, "rotate", PREFIX);
    scans = await QueueWatch.start(redis.url, "scan", PREFIX);
    // the test's own view of the rotate queue, which outlives the worker
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    rotateQueue = new Queue("rotate", { connection, prefix: PREFIX });
    worker = await startWorker(config, { logger: createLogger({ level: "silent" }), schedules: false });
  });
  after(async () => {
    await worker?.stop();
    await rotateQueue?.close();
    connection?.disconnect();
    await rotations?.close();
    await scans?.close();
    await world?.stop();
    await redis?.stop();
  });

  /** Resolves with how far ahead the job was put when it is next moved to delayed (a retry). */
  function nextRetry(jobId: string): Promise<number> {
    return new Promise((resolve) => {
      const onDelayed = ({ jobId: id, delay }: { jobId: string; delay: number }): void => {
        if (id !== jobId) return;
        rotations.events.off("delayed", onDelayed);
        resolve(Number(delay) - Date.now());
      };
      rotations.events.on("delayed", onDelayed);
    });
  }

  const rotateJob = async (id: string): Promise<Job> => {
    const job = await rotateQueue.getJob(rotateJobId(id));
    assert.ok(job, `a rotate job of ${id}`);
    return job;
  };

  it("retries a scanned credential's job with its rule's policy, and a job without the reference too", async () => {
    // every token call fails: each rotation gets as far as verify, then waits for its retry
    world.sandbox.setFaults({ token: { failRate: 1 } });
    const retries = IDS.map((id) => nextRetry(rotateJobId(id)));
    const scan = await worker.producer.queues.scan.add("scan", {});
    const scanned = await scans.next(scan.id!);
    assert.equal(scanned.status, "completed", scanned.status === "failed" ? scanned.reason : "");
    assert.deepEqual([...(scanned as { value: ScanResult }).value.enqueued].sort(), IDS);

    for (const [i, ahead] of (await Promise.all(retries)).entries()) {
      // the rule's first interval is 20 min, jittered to [10, 20) min; the world's would be under 100 ms
      assert.ok(ahead > 9 * MINUTE && ahead < 20 * MINUTE, `${IDS[i]} retried in ${ahead} ms`);
      const job = await rotateJob(IDS[i]!);
      assert.equal(job.opts.attempts, 4);
      assert.equal(job.attemptsMade, 1);
      assert.deepEqual(rotateJobData.parse(job.data).discovery, reference(i));
    }

    // a job queued by an older version carries no reference: it looks its credential up, with the same policy
    await (await rotateJob(IDS[0]!)).remove();
    const legacyRetry = nextRetry(rotateJobId(IDS[0]!));
    const legacy = await worker.producer.enqueueRotate({
      credentialId: IDS[0]!,
      trigger: "on-demand",
      attempts: 4,
    });
    assert.equal(legacy.added, true);
    const ahead = await legacyRetry;
    assert.ok(ahead > 9 * MINUTE && ahead < 20 * MINUTE, `the older job retried in ${ahead} ms`);
    assert.equal(rotateJobData.parse((await rotateJob(IDS[0]!)).data).discovery, undefined);
  });

  it("rotates both once the bank answers; the retire jobs carry the reference", async () => {
    world.sandbox.setFaults({});
    const jobs = await Promise.all(IDS.map(rotateJob));
    const outcomes = jobs.map((job) => rotations.next(job.id!));
    for (const job of jobs) await job.promote();
    for (const [i, outcome] of (await Promise.all(outcomes)).entries()) {
      assert.equal(outcome.status, "completed", outcome.status === "failed" ? outcome.reason : "");
      const { status, rotationId } = (outcome as { value: { status: string; rotationId: string } }).value;
      assert.equal(status, "retire-due", "the rule's grace period");
      const retire = await worker.producer.queues.retire.getJob(retireJobId(rotationId));
      assert.ok(retire, `a retire job of ${IDS[i]}`);
      // the older job (cred-0) was resolved by listing, and its retire job has the reference all the same
      assert.deepEqual(retireJobData.parse(retire.data), {
        credentialId: IDS[i],
        rotationId,
        discovery: reference(i),
      });
    }
  });

  it("queues `certrotor rotate` of a discovered credential with its reference; no job data holds a secret", async () => {
    await worker.stop(); // the job stays queued, to be looked at
    const configPath = await writeConfig(world.dir, config);
    const run = await certrotor("rotate", IDS[1]!, "--config", configPath);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^queued rotation rot_\w+ of certrotor-cred-1/);
    const job = await rotateJob(IDS[1]!);
    const data: RotateJobData = rotateJobData.parse(job.data);
    assert.equal(data.trigger, "on-demand");
    assert.deepEqual(data.discovery, reference(1));
    assert.equal(job.opts.attempts, 4);

    const secrets = await withWorldFileStore(world, async (store) => {
      const out: string[] = [];
      for (let i = 0; i < IDS.length; i++) {
        const ref = { credentialId: IDS[i]!, path: `certrotor/cred-${i}` };
        const { material } = await store.readCurrent(ref);
        const previous = (await store.readPrevious(ref))?.material;
        for (const m of [material, previous]) {
          if (!m) continue;
          out.push(
            m.clientSecret!,
            m.keyPem.split("\n")[1]!,
            m.pfxPassphrase ?? "",
            m.pfxBase64?.slice(100, 160) ?? "",
          );
        }
      }
      return out.filter((s) => s.length > 0);
    });
    assert.ok(secrets.length >= 8);
    const dump = await dumpRedis(redis.url);
    for (const secret of secrets) assert.ok(!dump.includes(secret), "a secret was written to Redis");
  });
});
