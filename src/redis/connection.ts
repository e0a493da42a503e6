/**
 * Every Redis connection certrotor opens, built from the one `redis:` section, so the queues, the journal,
 * the locks and the alert episodes of every entry point reach the same Redis with the same settings:
 * a standalone server (`url`), a Redis Cluster (`cluster`, through ioredis `Cluster`: redirects followed,
 * failovers ridden out) or a Sentinel group (`sentinel`: the master asked of the sentinels, again after a
 * failover). Roles: see options.ts.
 *
 * `RedisClient` is what the rest of certrotor holds: a `Redis` or a `Cluster`, the same commands.
 */
import { createRequire } from "node:module";
import type { Cluster, Redis } from "ioredis";
import type { RedisConfig } from "../config/schema.js";
import { type ConnectionRole, clusterOptions, parseNode, redisOptions } from "./options.js";
import { within } from "../util/within.js";

export type { ConnectionRole } from "./options.js";

/** A connection to Redis: one server (standalone or Sentinel's master) or a Cluster. */
export type RedisClient = Redis | Cluster;

type IoRedis = typeof import("ioredis");
let loaded: IoRedis | undefined;
/**
 * ioredis (46 modules), required at the first connection rather than when a module naming these helpers
 * loads: the file-state commands (`status`, `rotate --inline` without `redis:`) never connect. It is
 * CommonJS, so the classes are the same ones an `import` (BullMQ's) gets.
 */
function ioredis(): IoRedis {
  loaded ??= createRequire(import.meta.url)("ioredis") as IoRedis;
  return loaded;
}

export function redisConnection(
  settings: RedisConfig,
  role: ConnectionRole,
  extra: { lazyConnect?: boolean } = {},
): RedisClient {
  if (settings.cluster) {
    return new (ioredis().Cluster)(settings.cluster.map(parseNode), {
      ...clusterOptions(settings, role),
      ...extra,
    });
  }
  return new (ioredis().Redis)({ ...redisOptions(settings, role), ...extra });
}

/** A new connection like `client` for blocking reads (a follower's QueueEvents); the caller closes it. */
export function duplicateForBlocking(client: RedisClient): RedisClient {
  if (client instanceof ioredis().Cluster) {
    return client.duplicate(undefined, {
      ...client.options,
      redisOptions: { ...client.options.redisOptions, maxRetriesPerRequest: null },
    });
  }
  return client.duplicate({ maxRetriesPerRequest: null });
}

/** How long a QUIT may wait for its reply before the connection is dropped instead. */
const QUIT_GRACE_MS = 2_000;

/**
 * Closes a connection: QUIT when it is up, else drops it. A QUIT sent while the connection is down waits
 * in ioredis's offline queue behind the commands there, which with BullMQ's unlimited retries wait for a
 * Redis that may never come back: a worker stopped during an outage would never exit. So a connection that
 * is not ready is dropped at once, and a QUIT that gets no reply within QUIT_GRACE_MS is dropped too.
 */
export async function closeConnection(client: RedisClient): Promise<void> {
  if (client.status !== "ready") {
    client.disconnect();
    return;
  }
  const quitted = await within(
    client.quit().then(() => true),
    QUIT_GRACE_MS,
    false,
  ).catch(() => false);
  if (!quitted) client.disconnect();
}

/** Where Redis is, for messages: the URL without its password, the cluster's nodes, or the Sentinel group. */
export function describeRedis(settings: Pick<RedisConfig, "url" | "cluster" | "sentinel">): string {
  if (settings.cluster) return `cluster ${settings.cluster.join(",")}`;
  if (settings.sentinel)
    return `sentinel master "${settings.sentinel.name}" (${settings.sentinel.sentinels.join(",")})`;
  return redactUrl(settings.url ?? "");
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable url)";
  }
}

/** The first line of what Redis (or ioredis) said, wrapped errors included (cluster, Sentinel). */
export function redisMessage(error: unknown): string {
  const wrapped = (error as { lastNodeError?: Error } | undefined)?.lastNodeError;
  const message = String((error as Error | undefined)?.message ?? error ?? "");
  const line = wrapped ? `${message} (${wrapped.message})` : message;
  return line.split("\n")[0]!;
}

/** Redis refused who we are or what we may do: waiting does not help. */
export function isAccessDenied(error: unknown): boolean {
  return /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(redisMessage(error));
}

export function isNotWritable(error: unknown): boolean {
  return /^(READONLY|MASTERDOWN)\b/.test(redisMessage(error));
}
