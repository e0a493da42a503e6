/**
 * What the soak knows while it runs: the rotate queue's events (completions, stalls, final failures,
 * retries) and, every few seconds, each credential's latest rotation in the journal. Both survive the
 * Redis restart or a failover (ioredis reconnects; a poll that fails during the outage is skipped).
 *
 * It also keeps each rotation record as first seen finished — read right after its job's completion or
 * final failure, and on every full poll — so the end-of-run check can tell whether a finished record
 * changed afterwards (a stale worker overwriting it).
 */
import { Queue, QueueEvents } from "bullmq";
import pLimit from "p-limit";
import { createRedisJournal } from "../../src/journal/redis.js";
import { isFinished, type Journal, type RotationRecord } from "../../src/journal/types.js";
import { rotateJobId } from "../../src/queue/names.js";
import type { Config } from "../../src/config/schema.js";
import { type RedisClient, redisConnection } from "../../src/redis/connection.js";
import { statePrefix } from "../../src/runtime.js";

export interface QueueCounters {
  completed: number;
  /** Completed with a promoted rotation (not "not-due"). */
  succeeded: number;
  notDue: number;
  /** Final failures (attempts exhausted, unrecoverable, stalled too often), by the reason's error code. */
  failed: number;
  failedReasons: Record<string, number>;
  /** Jobs found stalled (their worker was killed or lost Redis) and put back to wait. */
  stalled: number;
  /** Jobs moved to delayed: a failed attempt's backoff, or a LOCKED credential looked at later. */
  delayed: number;
}

export interface Snapshot {
  /** "journal": every credential's latest rotation was read; "events": counted from completions (cheap). */
  source: "journal" | "events";
  succeeded: number;
  rolledBack: number;
  running: number;
  otherwise: number;
  active: number;
  waiting: number;
  delayed: number;
}

export interface ProgressWatch {
  readonly counters: QueueCounters;
  readonly journal: Journal;
  readonly connection: RedisClient;
  readonly queues: { rotate: Queue; notify: Queue };
  /** Each finished rotation record as first seen, by rotation id. */
  readonly finished: ReadonlyMap<string, RotationRecord>;
  /**
   * The rotate queue's counts and how many credentials are rotated: from the journal (every credential's
   * latest rotation) when `full`, else from the completions seen; null while Redis is away.
   */
  snapshot(full: boolean): Promise<Snapshot | null>;
  close(): Promise<void>;
}

function reasonKey(reason: string): string {
  return /^([A-Z][A-Z_]+)\b/.exec(reason)?.[1] ?? reason.slice(0, 60);
}

export async function watchProgress(
  config: Config,
  credentialIds: readonly string[],
): Promise<ProgressWatch> {
  const settings = config.redis!;
  const connection = redisConnection(settings, "blocking");
  connection.on("error", () => undefined);
  const prefix = settings.prefix;
  const journal = createRedisJournal(connection, { prefix: `${statePrefix(settings)}journal:` });
  const make = (name: string): Queue => {
    const queue = new Queue(name, { connection, prefix });
    queue.on("error", () => undefined);
    return queue;
  };
  const queues = { rotate: make("rotate"), notify: make("notify") };
  const eventsConnection = redisConnection(settings, "blocking");
  eventsConnection.on("error", () => undefined);
  const events = new QueueEvents("rotate", { connection: eventsConnection, prefix });
  events.on("error", () => undefined);
  await events.waitUntilReady();

  const counters: QueueCounters = {
    completed: 0,
    succeeded: 0,
    notDue: 0,
    failed: 0,
    failedReasons: {},
    stalled: 0,
    delayed: 0,
  };
  const rotated = new Set<string>();
  const limit = pLimit(32);
  const finished = new Map<string, RotationRecord>();
  const keep = (record: RotationRecord | null): void => {
    if (record && isFinished(record.status) && !finished.has(record.rotationId))
      finished.set(record.rotationId, record);
  };
  const jobPrefix = rotateJobId("");
  events.on("completed", ({ jobId, returnvalue }) => {
    counters.completed++;
    const rotationId = (returnvalue as unknown as { rotationId?: string } | null)?.rotationId;
    if (rotationId) void limit(() => journal.get(rotationId).then(keep, () => undefined));
    const status = (returnvalue as unknown as { status?: string } | null)?.status;
    if (status === "succeeded") {
      counters.succeeded++;
      rotated.add(jobId);
    } else if (status === "not-due") counters.notDue++;
  });
  // BullMQ emits "failed" only for a job's last attempt; an attempt that will be retried is "delayed"
  events.on("failed", ({ jobId, failedReason }) => {
    counters.failed++;
    if (jobId.startsWith(jobPrefix)) {
      const credentialId = jobId.slice(jobPrefix.length);
      void limit(() => journal.latest(credentialId).then(keep, () => undefined));
    }
    const key = reasonKey(failedReason);
    counters.failedReasons[key] = (counters.failedReasons[key] ?? 0) + 1;
  });
  events.on("delayed", () => {
    counters.delayed++;
  });
  events.on("stalled", () => {
    counters.stalled++;
  });

  return {
    counters,
    journal,
    connection,
    queues,
    finished,
    async snapshot(full) {
      try {
        const counts = await queues.rotate.getJobCounts("active", "waiting", "delayed");
        const snapshot: Snapshot = {
          source: full ? "journal" : "events",
          succeeded: full ? 0 : rotated.size,
          rolledBack: 0,
          running: 0,
          otherwise: 0,
          active: counts.active ?? 0,
          waiting: counts.waiting ?? 0,
          delayed: counts.delayed ?? 0,
        };
        if (!full) return snapshot;
        const latest = await Promise.all(credentialIds.map((id) => limit(() => journal.latest(id))));
        for (const record of latest) {
          keep(record);
          if (record?.status === "succeeded") snapshot.succeeded++;
          else if (record?.status === "rolled-back") snapshot.rolledBack++;
          else if (record?.status === "running" || record?.status === "retire-due") snapshot.running++;
          else snapshot.otherwise++;
        }
        return snapshot;
      } catch {
        return null;
      }
    },
    async close() {
      await events.close().catch(() => undefined);
      await Promise.all(Object.values(queues).map((q) => q.close().catch(() => undefined)));
      eventsConnection.disconnect();
      connection.disconnect();
    },
  };
}
