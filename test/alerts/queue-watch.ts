/**
 * Waiting on the worker's queues through BullMQ's queue events (never on time): the outcome of one job
 * id, and "this queue has nothing left to run".
 */
import { type Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";

export type Outcome = { status: "completed"; value: unknown } | { status: "failed"; reason: string };

export class QueueWatch {
  private constructor(
    readonly events: QueueEvents,
    private readonly connection: Redis,
  ) {}

  static async start(redisUrl: string, queue: string, prefix: string): Promise<QueueWatch> {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const events = new QueueEvents(queue, { connection, prefix });
    await events.waitUntilReady();
    return new QueueWatch(events, connection);
  }

  /** Call before the job is added; resolves with its next outcome. */
  next(jobId: string): Promise<Outcome> {
    return new Promise((resolve) => {
      const onCompleted = ({ jobId: id, returnvalue }: { jobId: string; returnvalue: unknown }): void => {
        if (id !== jobId) return;
        off();
        resolve({ status: "completed", value: returnvalue });
      };
      const onFailed = ({ jobId: id, failedReason }: { jobId: string; failedReason: string }): void => {
        if (id !== jobId) return;
        off();
        resolve({ status: "failed", reason: failedReason });
      };
      const off = (): void => {
        this.events.off("completed", onCompleted);
        this.events.off("failed", onFailed);
      };
      this.events.on("completed", onCompleted);
      this.events.on("failed", onFailed);
    });
  }

  /** Resolves once `queue` has no waiting, delayed or active job, re-checking on every finished job. */
  async idle(queue: Queue): Promise<void> {
    const busy = async (): Promise<boolean> => {
      const counts = await queue.getJobCounts("waiting", "delayed", "active", "prioritized");
      return Object.values(counts).some((n) => n > 0);
    };
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const check = (): void => {
        busy().then((stillBusy) => {
          if (stillBusy || done) return;
          done = true;
          this.events.off("completed", check);
          this.events.off("failed", check);
          resolve();
        }, reject);
      };
      this.events.on("completed", check);
      this.events.on("failed", check);
      check();
    });
  }

  async close(): Promise<void> {
    await this.events.close();
    this.connection.disconnect();
  }
}
