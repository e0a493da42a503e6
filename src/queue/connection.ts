/**
 * Redis connections for BullMQ. Workers need `maxRetriesPerRequest: null` (blocking commands, reconnect
 * forever); producers fail fast while Redis is down instead of queueing commands in memory.
 */
import { setTimeout as sleep } from "node:timers/promises";
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
    // a Redis that accepts the connection but never answers (hung, SIGSTOPped) must not hang the probe
    commandTimeout: timeoutMs,
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

export interface WaitForRedisOptions {
  timeoutMs: number;
  /** Gives up at once when it aborts (a stop signal during start-up). */
  signal?: AbortSignal;
  /** Called once, after the first failed try. */
  onWait?: (error: CertrotorError) => void;
}

/**
 * Waits for Redis to answer PING, for at most `timeoutMs`: a worker started while Redis restarts (both
 * deployed at once, a failover) comes up when Redis does instead of exiting. Tries 250 ms apart, doubling
 * to 5 s; throws REDIS_UNAVAILABLE once the bound would be passed, or when `signal` aborts.
 */
export async function waitForRedis(url: string, options: WaitForRedisOptions): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  for (let delay = 250, tries = 0; ; delay = Math.min(delay * 2, 5_000), tries++) {
    try {
      await assertRedisReachable(url, Math.max(100, Math.min(2_000, until - Date.now())));
      return;
    } catch (error) {
      const unavailable = error as CertrotorError;
      if (options.signal?.aborted || Date.now() + delay >= until) throw unavailable;
      if (tries === 0) options.onWait?.(unavailable);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
      if (options.signal?.aborted) throw unavailable;
    }
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
