/**
 * Follows one rotate job from the command line: a line per step with its timing, then the outcome.
 * Subscribes to the queue's events before the job is added, so no event is missed. With a `workers`
 * probe (BullMQ's getWorkersCount: the Redis connections of the queue's workers), it also notices that
 * nobody consumes the queue: before the job is added (`waitForWorker`) and while it waits (a job that no
 * worker has been there to take for `noWorkerMs` ends the wait as "no-worker"), instead of waiting forever.
 */
import { Queue, QueueEvents } from "bullmq";
import { duplicateForBlocking, type RedisClient } from "../redis/connection.js";
import { QUEUES } from "./names.js";

export type FollowOutcome =
  | { status: "completed"; result: unknown }
  | { status: "failed"; reason: string }
  /** No worker was connected to the queue for `noWorkerMs`: the job is still queued. */
  | { status: "no-worker"; forMs: number }
  /** The rotation parked on a human task (a portal bank): the worker looks again by itself. */
  | { status: "parked"; taskId: string };

export interface FollowerOptions {
  /** How many workers consume the rotate queue now; undefined when it cannot be told (e.g. an ACL). */
  workers?: () => Promise<number | undefined>;
  /** How long the queue may be without a worker before the wait ends (default 30 s). */
  noWorkerMs?: number;
}

export interface Follower {
  /** True once a worker consumes the queue, false when none came within `noWorkerMs`. */
  waitForWorker(): Promise<boolean>;
  /** Resolves with the job's outcome; `onStep` is called once per saga step as it starts. */
  follow(jobId: string, onStep: (step: string, sinceStartMs: number) => void): Promise<FollowOutcome>;
  close(): Promise<void>;
}

const DEFAULT_NO_WORKER_MS = 30_000;

/** The progress "step" a rotate job reports when its rotation parks on a human task (jobs/rotate.ts). */
export const PARKED_STEP = "awaiting-registration";

/**
 * How many workers consume the rotate queue (BullMQ's getWorkersCount, from CLIENT LIST), undefined when
 * Redis will not say (an ACL without CLIENT). Its Queue writes nothing (skipMetasUpdate), so asking
 * leaves Redis as it was.
 */
export function createWorkerProbe(
  connection: RedisClient,
  prefix: string,
): { count(): Promise<number | undefined>; close(): Promise<void> } {
  const queue = new Queue(QUEUES.rotate, { connection, prefix, skipMetasUpdate: true });
  queue.on("error", () => undefined);
  return {
    count: () => queue.getWorkersCount().catch(() => undefined),
    close: () => queue.close(),
  };
}

export async function createFollower(
  connection: RedisClient,
  prefix: string,
  options: FollowerOptions = {},
): Promise<Follower> {
  // BullMQ does not close a connection it was handed: keep ours to close it
  const own = duplicateForBlocking(connection);
  own.on("error", () => undefined);
  const events = new QueueEvents(QUEUES.rotate, { connection: own, prefix });
  events.on("error", () => undefined);
  await events.waitUntilReady();
  const noWorkerMs = options.noWorkerMs ?? DEFAULT_NO_WORKER_MS;
  // the probe asks Redis (CLIENT LIST): a few times per bound, at most every 2 s
  const probeEveryMs = Math.max(100, Math.min(2_000, Math.floor(noWorkerMs / 5)));
  const timers = new Set<NodeJS.Timeout>();

  /**
   * Calls `onGone(ms)` once the queue has had no worker for noWorkerMs, and `onAnswer` after each probe
   * that found workers or could not tell (undefined); returns a stop function.
   */
  const watchWorkers = (
    onGone: (forMs: number) => void,
    onAnswer?: (count: number | undefined) => void,
  ): (() => void) => {
    const probe = options.workers;
    if (!probe) return () => undefined;
    let lastSeen = Date.now();
    let stopped = false;
    const tick = async (): Promise<void> => {
      const count = await probe().catch(() => undefined);
      if (stopped) return;
      if (count === undefined || count > 0) {
        lastSeen = Date.now();
        onAnswer?.(count);
      } else if (Date.now() - lastSeen >= noWorkerMs) {
        onGone(Date.now() - lastSeen);
        return;
      }
      if (!stopped) schedule();
    };
    const schedule = (): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void tick();
      }, probeEveryMs);
      timers.add(timer);
    };
    void tick();
    return () => {
      stopped = true;
    };
  };

  return {
    waitForWorker() {
      if (!options.workers) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        let stop = (): void => undefined;
        const done = (found: boolean): void => {
          stop();
          resolve(found);
        };
        // a probe that cannot tell (CLIENT LIST refused by an ACL) does not hold the rotation back
        stop = watchWorkers(
          () => done(false),
          () => done(true),
        );
      });
    },
    follow(jobId, onStep) {
      const started = Date.now();
      return new Promise<FollowOutcome>((resolve) => {
        let stopWatching = (): void => undefined;
        const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }): void => {
          const { step, taskId } = (data as { step?: unknown; taskId?: unknown } | null) ?? {};
          if (id !== jobId || typeof step !== "string") return;
          if (step === PARKED_STEP && typeof taskId === "string") finish({ status: "parked", taskId });
          else onStep(step, Date.now() - started);
        };
        const finish = (outcome: FollowOutcome): void => {
          stopWatching();
          events.off("progress", onProgress);
          events.off("completed", onCompleted);
          events.off("failed", onFailed);
          resolve(outcome);
        };
        const onCompleted = ({ jobId: id, returnvalue }: { jobId: string; returnvalue: unknown }): void => {
          if (id === jobId) finish({ status: "completed", result: returnvalue });
        };
        const onFailed = ({ jobId: id, failedReason }: { jobId: string; failedReason: string }): void => {
          if (id === jobId) finish({ status: "failed", reason: failedReason });
        };
        events.on("progress", onProgress);
        events.on("completed", onCompleted);
        events.on("failed", onFailed);
        stopWatching = watchWorkers((forMs) => finish({ status: "no-worker", forMs }));
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await events.close();
      own.disconnect();
    },
  };
}
