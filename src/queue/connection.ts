/**
 * Redis connections for BullMQ. Workers need `maxRetriesPerRequest: null` (blocking commands, reconnect
 * forever); producers fail fast while Redis is down instead of queueing commands in memory.
 */
import { Redis, type RedisOptions } from "ioredis";
import { CertrotorError } from "../errors.js";

export function workerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...extra });
}

export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 3_000,
    ...extra,
  });
}

/** Resolves once Redis answers PING, or throws REDIS_UNAVAILABLE after `timeoutMs`. */
export async function assertRedisReachable(url: string, timeoutMs = 2_000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new CertrotorError("REDIS_UNAVAILABLE", `Redis at ${redactUrl(url)} is not reachable`, {
      cause: error,
      hint: "start redis-server, or set worker.redisUrl / REDIS_URL; use --inline to run without Redis",
    });
  } finally {
    probe.disconnect();
  }
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
