/**
 * The scan job across workers: a scan cut short (its worker died) is resumed from the chunk it reached,
 * in the same order, instead of starting over; and scans do not overlap: a scheduled scan that finds
 * another one running skips, a resumed one waits for the lease and then finishes. A worker in this
 * process on a private redis-server; jobs added by hand and awaited through queue events.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SCAN_LOCKED_RETRY_MS, type ScanResult } from "../../jobs/scan.js";
import { createLogger } from "../../src/observability/logger.js";
import { startWorker, type WorkerHandle } from "../../jobs/worker.js";
import { days } from "../fixtures/pki.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { QueueWatch } from "../alerts/queue-watch.js";
import { queueConfig } from "./helpers.js";

/** A scan job is held delayed this long while the test sets its progress; promote() releases it. */
const HOLD_MS = 10 * 60_000;

describe("the scan job", () => {
  let redis: RedisServer;
  let world: TestWorld;
  let worker: WorkerHandle;
  let scans: QueueWatch;

  before(async () => {
    redis = await startRedis();
    // 150 credentials: two chunks of the scan (100 + 50); none due, so the scans enqueue nothing
    world = await aWorld({
      store: "file",
      issuer: "local-ca",
      credentials: 150,
      expiresInMs: () => days(80),
    });
    const config = queueConfig(world.config, redis.url, { rotationLease: 60_000 }, "{scan-job}");
    scans = await QueueWatch.start(redis.url, "scan", "{scan-job}");
    worker = await startWorker(config, { logger: createLogger({ level: "silent" }), schedules: false });
  });
  after(async () => {
    await worker.stop();
    await scans.close();
    await world.stop();
    await redis.stop();
  });

  /** Adds a scan job carrying `progress` (what a run cut short left) and waits for its result. */
  async function runScan(progress?: { seed: number; next: number }): Promise<ScanResult> {
    const queue = worker.producer.queues.scan;
    // with progress: added delayed (no worker can take it), given its progress, then promoted to waiting
    const job = await queue.add("scan", {}, progress ? { delay: HOLD_MS } : {});
    if (progress) {
      await job.updateProgress(progress);
      await job.promote();
    }
    const outcome = await scans.next(job.id!);
    assert.equal(outcome.status, "completed", outcome.status === "failed" ? outcome.reason : "");
    return (outcome as { value: ScanResult }).value;
  }

  it("scans every credential in one run", async () => {
    const result = await runScan();
    assert.equal(result.scanned, 150);
    assert.equal(result.resumedAt, undefined);
    assert.deepEqual(result.enqueued, []);
  });

  it("resumes a scan that was cut short from the chunk it reached", async () => {
    const result = await runScan({ seed: 42, next: 1 });
    assert.equal(result.resumedAt, 1);
    assert.equal(result.scanned, 50, "only the second chunk is left");
  });

  it("skips a scheduled scan while another scan holds the lease", async () => {
    const lease = await worker.runtime.locks.acquire("scan", { ttlMs: 60_000, owner: "another-scan" });
    try {
      const result = await runScan();
      assert.equal(result.skipped, "another scan is running");
      assert.equal(result.scanned, 0);
    } finally {
      await lease.release();
    }
  });

  it("makes a resumed scan wait for the lease, then finish", async () => {
    const lease = await worker.runtime.locks.acquire("scan", { ttlMs: 60_000, owner: "dead-worker" });
    const job = await worker.producer.queues.scan.add("scan", {}, { delay: HOLD_MS });
    await job.updateProgress({ seed: 7, next: 0 });
    const outcome = scans.next(job.id!);
    await job.promote();
    // the LOCKED retry puts it back SCAN_LOCKED_RETRY_MS ahead
    await new Promise<void>((resolve) => {
      const onDelayed = ({ jobId, delay }: { jobId: string; delay: number }): void => {
        const at = Number(delay) - Date.now();
        // not the add's own (HOLD_MS) delay: the retry's
        if (jobId !== job.id || at < SCAN_LOCKED_RETRY_MS / 2 || at > SCAN_LOCKED_RETRY_MS * 2) return;
        scans.events.off("delayed", onDelayed);
        resolve();
      };
      scans.events.on("delayed", onDelayed);
    });
    // a worker died holding the lease: it runs out (here: is released) and the resumed scan goes on
    await lease.release();
    const finished = await outcome;
    assert.equal(finished.status, "completed");
    const result = (finished as { value: ScanResult }).value;
    assert.equal(result.skipped, undefined);
    assert.equal(result.resumedAt, 0);
    assert.equal(result.scanned, 150);
  });
});
