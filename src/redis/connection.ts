/**
 * Every Redis connection certrotor opens, built from the one `redis:` section, so the queues, the journal,
 * the locks and the alert episodes of every entry point reach the same Redis with the same settings.
 *
 * Roles:
 * - `blocking`: BullMQ workers and queue-event listeners (`maxRetriesPerRequest: null`: blocking commands,
 *   reconnect forever);
 * - `state`: the journal, locks and episodes of a worker (waits out a Redis restart instead of failing
 *   the step);
 * - `command`: producers and one-shot commands (fail fast while Redis is down instead of queueing
 *   commands in memory).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Redis, type RedisOptions } from "ioredis";
import type { RedisConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";

export type ConnectionRole = "blocking" | "state" | "command";

const ROLE_OPTIONS: Record<ConnectionRole, RedisOptions> = {
  blocking: { maxRetriesPerRequest: null, enableReadyCheck: true },
  state: { maxRetriesPerRequest: null, enableReadyCheck: true },
  command: { maxRetriesPerRequest: 1, enableOfflineQueue: true },
};

export function redisConnection(
  settings: RedisConfig,
  role: ConnectionRole,
  extra: RedisOptions = {},
): Redis {
  return new Redis(settings.url, {
    connectTimeout: settings.connectTimeout,
    ...ROLE_OPTIONS[role],
    ...extra,
  });
}

/** Where Redis is, for messages: the URL without its password. */
export function describeRedis(settings: Pick<RedisConfig, "url">): string {
  return redactUrl(settings.url);
}

/** Redis refused who we are or what we may do: waiting does not help. */
export function isAccessDenied(error: unknown): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(String((error as Error | undefined)?.message ?? ""));
}

/** Resolves once Redis answers PING, or throws REDIS_UNAVAILABLE after `timeoutMs`. */
export async function assertRedisReachable(settings: RedisConfig, timeoutMs = 2_000): Promise<void> {
  const probe = redisConnection(settings, "command", {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    // a Redis that accepts the connection but never answers (hung, SIGSTOPped) must not hang the probe
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  probe.on("error", () => undefined);
  let authError: Error | undefined;
  probe.on("error", (error: Error) => {
    if (isAccessDenied(error)) authError = error;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    const denied = isAccessDenied(error) ? (error as Error) : authError;
    if (denied) {
      throw new CertrotorError(
        "REDIS_ACCESS_DENIED",
        `Redis at ${describeRedis(settings)} refused the connection: ${denied.message.split("\n")[0]}`,
        {
          cause: denied,
          hint: "check the user and password in redis.url (or redis.username / redis.password) and the ACL rules of that user",
        },
      );
    }
    throw new CertrotorError("REDIS_UNAVAILABLE", `Redis at ${describeRedis(settings)} is not reachable`, {
      cause: error,
      hint: "start redis-server, or set redis.url (REDIS_URL); without Redis, rotate --inline runs on the state dir",
    });
  } finally {
    // a refused AUTH has already ended the connection; disconnecting again would arm ioredis's 2 s
    // "destroy the stream if still open" timer on a stream whose close has passed, and keep the process
    // (a worker or command exiting on REDIS_ACCESS_DENIED) alive that long for nothing
    if (probe.status !== "end") probe.disconnect();
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
export async function waitForRedis(settings: RedisConfig, options: WaitForRedisOptions): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  for (let delay = 250, tries = 0; ; delay = Math.min(delay * 2, 5_000), tries++) {
    try {
      await assertRedisReachable(settings, Math.max(100, Math.min(2_000, until - Date.now())));
      return;
    } catch (error) {
      const unavailable = error as CertrotorError;
      if (unavailable.code === "REDIS_ACCESS_DENIED") throw unavailable;
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
