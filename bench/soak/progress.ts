/**
 * What the soak knows while it runs: the rotate queue's events (completions, stalls, final failures,
 * retries) and, every few seconds, each credential's latest rotation in the journal. Both survive the
 * Redis restart or a failover (ioredis reconnects; a poll that fails during the outage is skipped).
 */
import { Queue, QueueEvents } from "bullmq";
import pLimit from "p-limit";
import { createRedisJournal } from "../../src/journal/redis.js";
import type { Journal } from "../../src/journal/types.js";
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
  events.on("completed", ({ jobId, returnvalue }) => {
    counters.completed++;
    const status = (returnvalue as unknown as { status?: string } | null)?.status;
    if (status === "succeeded") {
      counters.succeeded++;
      rotated.add(jobId);
    } else if (status === "not-due") counters.notDue++;
  });
  // BullMQ emits "failed" only for a job's last attempt; an attempt that will be retried is "delayed"
  events.on("failed", ({ failedReason }) => {
    counters.failed++;
    const key = reasonKey(failedReason);
    counters.failedReasons[key] = (counters.failedReasons[key] ?? 0) + 1;
  });
  events.on("delayed", () => {
    counters.delayed++;
  });
  events.on("stalled", () => {
    counters.stalled++;
  });

  const limit = pLimit(32);
  return {
    counters,
    journal,
    connection,
    queues,
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
