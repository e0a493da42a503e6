/**
 * Helpers of the queue section: a completion counter and "active" timestamps on one queue's QueueEvents,
 * the worker configuration of an arm, and the bare BullMQ hop (no-op job) used as the latency baseline.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Config } from "../src/config/schema.js";

/** Never fires during a bench: the cron scan and retire sweep would add jobs of their own. */
const NEVER = "0 0 0 1 1 *";
/** Pause before each latency sample so the worker is idle (blocked on Redis) when the job arrives. */
export const IDLE_GAP_MS = 20;

export function armConfig(base: Config, redisUrl: string, prefix: string, concurrency: number): Config {
  return {
    ...base,
    redis: { url: redisUrl, prefix, connectTimeout: 5_000 },
    worker: { ...base.worker, port: 0, concurrency },
    schedules: { ...base.schedules, scan: NEVER, retire: NEVER },
  };
}

/** Counts outcomes and records when each job's "active" event arrived (performance.now()). */
export class Outcomes {
  completed = 0;
  readonly failed: string[] = [];
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly activeWaiters = new Map<string, (at: number) => void>();

  private constructor(
    private readonly events: QueueEvents,
    private readonly connection: Redis,
  ) {}

  static async start(redisUrl: string, queue: string, prefix: string): Promise<Outcomes> {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    connection.on("error", () => undefined);
    const events = new QueueEvents(queue, { connection, prefix });
    events.on("error", () => undefined);
    await events.waitUntilReady();
    const outcomes = new Outcomes(events, connection);
    events.on("active", ({ jobId }) => {
      const at = performance.now();
      outcomes.activeWaiters.get(jobId)?.(at);
      outcomes.activeWaiters.delete(jobId);
    });
    events.on("completed", () => outcomes.settle(1));
    events.on("failed", ({ jobId, failedReason }) => {
      outcomes.failed.push(`${jobId}: ${failedReason}`);
      outcomes.settle(1);
    });
    return outcomes;
  }

  private settle(count: number): void {
    this.completed += count;
    for (const waiter of this.waiters.splice(0)) {
      if (this.completed >= waiter.n) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  /** Resolves once `n` jobs finished (completed or failed) since the counter was created. */
  until(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ n, resolve });
      this.settle(0);
    });
  }

  /** Resolves with the arrival time of `jobId`'s next "active" event. Call before adding the job. */
  nextActive(jobId: string): Promise<number> {
    return new Promise((resolve) => this.activeWaiters.set(jobId, resolve));
  }

  assertNoFailures(): void {
    if (this.failed.length > 0)
      throw new Error(`bench queue: jobs failed: ${this.failed.slice(0, 3).join("; ")}`);
  }

  async close(): Promise<void> {
    await this.events.close();
    this.connection.disconnect();
  }
}

/**
 * ms from `enqueue()` being called to the job's "active" event arriving, for `n` jobs one at a time, each
 * added after the previous finished and an idle gap; the first `warmup` jobs are not counted.
 */
export async function enqueueToStart(
  outcomes: Outcomes,
  n: number,
  enqueue: (i: number) => { jobId: string; add: () => Promise<unknown> },
  warmup = 3,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n + warmup; i++) {
    await delay(IDLE_GAP_MS);
    const { jobId, add } = enqueue(i);
    const active = outcomes.nextActive(jobId);
    const finished = outcomes.until(outcomes.completed + 1);
    const started = performance.now();
    await add();
    const at = await active;
    if (i >= warmup) samples.push(at - started);
    await finished;
  }
  outcomes.assertNoFailures();
  return samples;
}

/** The latency floor: a bare BullMQ add → idle in-process Worker with a no-op processor, measured alike. */
export async function bareHops(redisUrl: string, n: number): Promise<number[]> {
  const prefix = "{bench-bare}";
  const producer = new Redis(redisUrl);
  const consumer = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("hop", { connection: producer, prefix });
  const worker = new Worker("hop", async () => undefined, { connection: consumer, prefix });
  const outcomes = await Outcomes.start(redisUrl, "hop", prefix);
  try {
    await worker.waitUntilReady();
    return await enqueueToStart(outcomes, n, (i) => ({
      jobId: `hop-${i}`,
      add: () => queue.add("hop", {}, { jobId: `hop-${i}`, removeOnComplete: true }),
    }));
  } finally {
    await worker.close();
    await queue.close();
    await outcomes.close();
    producer.disconnect();
    consumer.disconnect();
  }
}
