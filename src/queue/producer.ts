/**
 * Adds jobs: on-demand and scheduled rotations (deduplicated per credential), delayed retires,
 * notifications, and the cron job schedulers. The only writer of jobs besides BullMQ itself.
 */
import { type JobsOptions, Queue } from "bullmq";
import type { RedisClient } from "../redis/connection.js";
import type { Config } from "../config/schema.js";
import { newRotationId } from "../rotation/saga.js";
import {
  QUEUES,
  type QueueName,
  RETIRE_SCHEDULER_ID,
  retireJobId,
  rotateJobId,
  notifyJobId,
  SCAN_SCHEDULER_ID,
} from "./names.js";
import type { NotifyJobData, RetireJobData, RotateJobData } from "./payloads.js";

export interface EnqueuedRotation {
  jobId: string;
  rotationId: string;
  /** False when a rotate job of this credential already existed (nothing was added). */
  added: boolean;
}

export interface Producer {
  readonly queues: Readonly<Record<QueueName, Queue>>;
  enqueueRotate(input: Omit<RotateJobData, "rotationId"> & { attempts: number }): Promise<EnqueuedRotation>;
  enqueueRetire(data: RetireJobData, delayMs: number): Promise<void>;
  enqueueNotify(data: NotifyJobData): Promise<boolean>;
  /** Creates or updates the cron schedulers of the scan and the retire sweep (idempotent). */
  upsertSchedules(config: Config): Promise<void>;
  close(): Promise<void>;
}

const KEEP = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } } satisfies JobsOptions;

export interface ProducerOptions {
  /** Delivery attempts of a notify job (config alerts.deliveryAttempts). */
  notifyAttempts?: number;
  /** First retry delay of a notify job, doubling after (config alerts.deliveryBackoff). */
  notifyBackoffMs?: number;
}

export function createProducer(
  connection: RedisClient,
  prefix: string,
  options: ProducerOptions = {},
): Producer {
  const make = (name: QueueName): Queue => {
    const queue = new Queue(name, { connection, prefix });
    queue.on("error", () => undefined); // connection errors surface on the calls that fail
    return queue;
  };
  const queues = {
    scan: make(QUEUES.scan),
    rotate: make(QUEUES.rotate),
    retire: make(QUEUES.retire),
    notify: make(QUEUES.notify),
  };

  return {
    queues,
    async enqueueRotate(input) {
      const jobId = rotateJobId(input.credentialId);
      const { attempts, ...data } = input;
      const rotationId = newRotationId();
      // a duplicate id is ignored by BullMQ while the job exists; re-read to learn whose job it is
      await queues.rotate.add("rotate", { ...data, rotationId } satisfies RotateJobData, {
        jobId,
        attempts,
        backoff: { type: "expiry-aware" },
        removeOnComplete: true,
        removeOnFail: true,
      });
      const stored = await queues.rotate.getJob(jobId);
      const storedId = (stored?.data as RotateJobData | undefined)?.rotationId ?? rotationId;
      return { jobId, rotationId: storedId, added: storedId === rotationId };
    },
    async enqueueRetire(data, delayMs) {
      await queues.retire.add("retire", data, {
        jobId: retireJobId(data.rotationId),
        delay: Math.max(0, delayMs),
        attempts: 5,
        backoff: { type: "exponential", delay: 30_000 },
        ...KEEP,
      });
    },
    async enqueueNotify(data) {
      const jobId = notifyJobId(data.episode, data.kind, data.at);
      await queues.notify.add("notify", data, {
        jobId,
        attempts: options.notifyAttempts ?? 8,
        backoff: { type: "exponential", delay: options.notifyBackoffMs ?? 5_000 },
        removeOnComplete: { age: 7 * 86_400 },
        removeOnFail: { age: 30 * 86_400 },
      });
      const stored = await queues.notify.getJob(jobId);
      return (stored?.data as NotifyJobData | undefined)?.at === data.at;
    },
    async upsertSchedules(config) {
      const tz = config.schedules.timezone;
      await queues.scan.upsertJobScheduler(
        SCAN_SCHEDULER_ID,
        { pattern: config.schedules.scan, tz },
        { name: "scan", data: {}, opts: KEEP },
      );
      await queues.retire.upsertJobScheduler(
        RETIRE_SCHEDULER_ID,
        { pattern: config.schedules.retire, tz },
        { name: "retire-sweep", data: {}, opts: KEEP },
      );
    },
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
