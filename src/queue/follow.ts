/**
 * Follows one rotate job from the command line: a line per step with its timing, then the outcome.
 * Subscribes to the queue's events before the job is added, so no event is missed.
 */
import { QueueEvents } from "bullmq";
import { duplicateForBlocking, type RedisClient } from "../redis/connection.js";
import { QUEUES } from "./names.js";

export type FollowOutcome = { status: "completed"; result: unknown } | { status: "failed"; reason: string };

export interface Follower {
  /** Resolves with the job's outcome; `onStep` is called once per saga step as it starts. */
  follow(jobId: string, onStep: (step: string, sinceStartMs: number) => void): Promise<FollowOutcome>;
  close(): Promise<void>;
}

export async function createFollower(connection: RedisClient, prefix: string): Promise<Follower> {
  // BullMQ does not close a connection it was handed: keep ours to close it
  const own = duplicateForBlocking(connection);
  own.on("error", () => undefined);
  const events = new QueueEvents(QUEUES.rotate, { connection: own, prefix });
  events.on("error", () => undefined);
  await events.waitUntilReady();
  return {
    follow(jobId, onStep) {
      const started = Date.now();
      return new Promise<FollowOutcome>((resolve) => {
        const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }): void => {
          const step = (data as { step?: unknown } | null)?.step;
          if (id === jobId && typeof step === "string") onStep(step, Date.now() - started);
        };
        const finish = (outcome: FollowOutcome): void => {
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
      });
    },
    async close() {
      await events.close();
      own.disconnect();
    },
  };
}
