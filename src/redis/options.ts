/**
 * The ioredis options of one connection, from the `redis:` section and the connection's role: a standalone
 * URL, a Cluster (any reachable nodes) or a Sentinel group, each with the same ACL user, TLS trust and
 * timeouts. Only src/redis/ knows these options; everything else gets a `RedisClient`.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import type { ClusterOptions, RedisOptions } from "ioredis";
import { REDIS_DEFAULTS, type RedisConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";

/**
 * - `blocking`: BullMQ workers and queue-event listeners (blocking commands; reconnect forever);
 * - `state`: what a worker's rotations write (journal, locks, episodes, the jobs it enqueues): waits out a
 *   restart or a failover instead of failing the step;
 * - `command`: one-shot commands (fail fast while Redis is down instead of queueing commands in memory).
 */
export type ConnectionRole = "blocking" | "state" | "command";

export type RedisForm = "standalone" | "cluster" | "sentinel";

export function redisForm(settings: RedisConfig): RedisForm {
  if (settings.cluster) return "cluster";
  if (settings.sentinel) return "sentinel";
  return "standalone";
}

/** Redis nodes as { host, port } ("[::1]:6379" is host ::1). */
export function parseNode(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(":");
  return { host: node.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(node.slice(at + 1)) };
}

const caCache = new Map<string, Buffer>();

function readCa(path: string): Buffer {
  const cached = caCache.get(path);
  if (cached) return cached;
  try {
    const ca = readFileSync(path);
    caCache.set(path, ca);
    return ca;
  } catch (error) {
    throw new CertrotorError("CONFIG_INVALID", `redis.tls.caFile: cannot read "${path}"`, {
      cause: error,
      hint: "point redis.tls.caFile at the PEM bundle of the CA that signed the Redis server certificate",
    });
  }
}

/**
 * TLS options when TLS is on (a rediss:// URL, or a `tls` section). Verification is explicit: an
 * environment that turns Node's default off must not switch it off for Redis.
 */
export function tlsOptions(settings: RedisConfig): TlsOptions | undefined {
  if (!settings.tls && !settings.url?.startsWith("rediss://")) return undefined;
  return {
    rejectUnauthorized: true,
    ...(settings.tls?.caFile ? { ca: readCa(settings.tls.caFile) } : {}),
    ...(settings.tls?.serverName ? { servername: settings.tls.serverName } : {}),
  };
}

/** Host, port, db, user and password of a standalone URL (parsed here, so the section's fields apply). */
function fromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.replace(/^\//, "") || "0");
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: Number(parsed.port || 6379),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/** Reconnect soon after a failover: 250 ms doubling to 2 s, forever. */
const reconnectDelay = (times: number): number => Math.min(250 * 2 ** Math.max(0, times - 1), 2_000);

const DEMOTED = /^(READONLY|UNBLOCKED\b.*instance state changed)/;

/** Options of one Redis connection (a standalone node, a Sentinel master, or a Cluster node). */
function nodeOptions(settings: RedisConfig, role: ConnectionRole): RedisOptions {
  const tls = tlsOptions(settings);
  const waits = role !== "command";
  return {
    connectTimeout: settings.connectTimeout,
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    ...(tls ? { tls } : {}),
    // a blocking read legitimately waits longer than any command timeout
    ...(settings.commandTimeout && role !== "blocking" ? { commandTimeout: settings.commandTimeout } : {}),
    maxRetriesPerRequest: waits ? null : 1,
    enableReadyCheck: true,
  };
}

/** Options of a standalone or Sentinel connection (`new Redis(options)`). */
export function redisOptions(settings: RedisConfig, role: ConnectionRole): RedisOptions {
  const base: RedisOptions = {
    ...nodeOptions(settings, role),
    retryStrategy: reconnectDelay,
    // a master demoted to replica behind the same address (a managed endpoint, a Sentinel failover that
    // left it up) answers writes with READONLY and ends blocking reads with UNBLOCKED: reconnect, so
    // Sentinel (or DNS) leads to the new master
    reconnectOnError: (error) => (DEMOTED.test(error.message) ? 1 : false),
  };
  if (settings.url) return { ...fromUrl(settings.url), ...base };
  const sentinel = settings.sentinel;
  if (!sentinel) throw new CertrotorError("INTERNAL", "redisOptions: neither url nor sentinel");
  const tls = tlsOptions(settings);
  return {
    ...base,
    sentinels: sentinel.sentinels.map(parseNode),
    name: sentinel.name,
    ...(sentinel.username ? { sentinelUsername: sentinel.username } : {}),
    ...(sentinel.password ? { sentinelPassword: sentinel.password } : {}),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    // no failoverDetector: in ioredis 6.0 quit() leaves its subscriptions to the sentinels open (the
    // process never exits); a killed master drops the connection and a demoted one answers READONLY,
    // either of which makes the connection ask the sentinels again
    sentinelRetryStrategy: reconnectDelay,
  };
}

/** Retry delay of a command during a failover or CLUSTERDOWN, and how many such retries it gets. */
export const CLUSTER_RETRY_MS = 250;

/** Options of a Cluster client (`new Cluster(nodes, options)`). */
export function clusterOptions(settings: RedisConfig, role: ConnectionRole): ClusterOptions {
  const tls = tlsOptions(settings);
  const patience = settings.failoverTimeout ?? REDIS_DEFAULTS.failoverTimeout;
  return {
    redisOptions: nodeOptions(settings, role),
    enableOfflineQueue: true,
    enableReadyCheck: true,
    scaleReads: "master",
    // a command meets a dead master until a replica is promoted: it is retried every 250 ms (the slots
    // refreshed each time) for failoverTimeout in the worker's roles, ~4 s in one-shot commands
    retryDelayOnFailover: CLUSTER_RETRY_MS,
    retryDelayOnClusterDown: CLUSTER_RETRY_MS,
    retryDelayOnTryAgain: CLUSTER_RETRY_MS,
    // a short pause before following MOVED: no ping-pong while the nodes disagree right after a failover
    retryDelayOnMoved: 50,
    maxRedirections: role === "command" ? 16 : Math.ceil(patience / CLUSTER_RETRY_MS) + 16,
    slotsRefreshTimeout: Math.max(1_000, Math.min(settings.connectTimeout, 5_000)),
    clusterRetryStrategy: reconnectDelay,
    // TLS: keep host names as given, so the certificate is checked against the name (not a resolved IP)
    ...(tls ? { dnsLookup: (address: string, callback) => callback(null, address) } : {}),
  };
}
