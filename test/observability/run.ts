/**
 * One worker run for the observability tests: five due credentials, the worker started in-process with
 * a JSON logger writing to memory, two scheduled scans (each enqueues the due ones). cred-1..3 rotate;
 * cred-0's bank refuses the token call from this IP (verify fails: rolled back) and cred-4 has a foreign
 * certificate in its second slot (SLOTS_FULL in plan: nothing happens), in both rounds. The alerts the
 * rotations raise are delivered to the default log channel before the run is over.
 */
import { readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { type Job, QueueEvents } from "bullmq";
import { createLogger } from "../../src/observability/logger.js";
import { startWorker, type WorkerHandle } from "../../jobs/worker.js";
import type { FileStoreConfig } from "../../src/config/schema.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { queueConfig } from "../queue/helpers.js";

export interface Run {
  redis: RedisServer;
  world: TestWorld;
  worker: WorkerHandle;
  /** Every JSON line the worker logged (level debug). */
  logs: string[];
  startedAt: Date;
  finishedAt: Date;
  metricsUrl: string;
  stop(): Promise<void>;
}

/** Counts finished jobs of one queue by event (job ids are reused, so a Map by id would undercount). */
class Finished {
  count = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  constructor(readonly events: QueueEvents) {
    const bump = (): void => {
      this.count++;
      for (const waiter of this.waiters.filter((w) => this.count >= w.n)) waiter.resolve();
      this.waiters = this.waiters.filter((w) => this.count < w.n);
    };
    events.on("completed", bump);
    events.on("failed", bump);
  }
  until(n: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.count >= n) resolve();
      else this.waiters.push({ n, resolve });
    });
  }
}

async function scanOnce(worker: WorkerHandle, scanEvents: QueueEvents): Promise<void> {
  const job: Job = await worker.producer.queues.scan.add("scan", {});
  await job.waitUntilFinished(scanEvents);
}

export async function aWorkerRun(): Promise<Run> {
  const redis = await startRedis();
  const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 5 });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  // long job locks: a loaded machine must not make a job look stalled and run twice (counts are exact)
  const config = queueConfig(world.config, redis.url, {
    concurrency: 3,
    jobLockDuration: 60_000,
    rotationLease: 60_000,
  });
  const connection = { url: redis.url };
  const prefix = config.redis!.prefix;
  const scanEvents = new QueueEvents("scan", { connection, prefix });
  const rotateEvents = new QueueEvents("rotate", { connection, prefix });
  const notifyEvents = new QueueEvents("notify", { connection, prefix });
  const rotations = new Finished(rotateEvents);
  const alerts = new Finished(notifyEvents);
  const events = [scanEvents, rotateEvents, notifyEvents];
  await Promise.all(events.map((e) => e.waitUntilReady()));

  const [cred0, , , , cred4] = world.credentials;
  world.sandbox.setAllowedIps(cred0!.clientId, ["203.0.113.0/24"]);
  world.sandbox.bindCertificate(cred4!.clientId, (await aClientCert({ ca: await aCa() })).certPem);

  const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const worker = await startWorker(config, { logger, port: 0, host: "127.0.0.1", schedules: false });
  const stop = async (): Promise<void> => {
    await worker.stop();
    for (const e of events) await e.close();
    await world.stop();
    await redis.stop();
  };
  try {
    await scanOnce(worker, scanEvents);
    await rotations.until(5);
    await scanOnce(worker, scanEvents);
    await rotations.until(7);
    // every alert the rotations raised (each added before its rotate job ended) is delivered
    const added = Object.values(await worker.producer.queues.notify.getJobCounts());
    await alerts.until(added.reduce((sum, n) => sum + n, 0));
  } catch (error) {
    await stop();
    throw error;
  }
  const finishedAt = new Date();
  return {
    redis,
    world,
    worker,
    logs,
    startedAt,
    finishedAt,
    metricsUrl: `http://127.0.0.1:${worker.port}/metrics`,
    stop,
  };
}

/** The file store's own encryption key, as written in its key file. */
export async function fileStoreKey(world: TestWorld): Promise<string> {
  const store = world.config.stores.main as FileStoreConfig;
  return (await readFile(store.keyFile!, "utf8")).trim();
}
