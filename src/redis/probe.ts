/**
 * Is Redis there, and may we do our work on it? The start-up probe connects with the configured user and
 * runs what certrotor needs on a key under its prefix (INFO, SET PX, a Lua script, DEL), so a user without
 * the permissions, a wrong password or an untrusted TLS certificate fails at start-up with its own code
 * instead of a worker that starts and then fails every job. The write probe is /readyz's: a replica
 * answers PING, but only the master takes a write.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Cluster, Redis } from "ioredis";
import type { RedisConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { within } from "../util/within.js";
import {
  describeRedis,
  isAccessDenied,
  isNotWritable,
  type RedisClient,
  redisMessage,
} from "./connection.js";
import { clusterOptions, parseNode, redisOptions } from "./options.js";

/** Node's codes for a server certificate that does not verify (chain or name). */
const TLS_REFUSALS = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function isTlsRefusal(error: unknown): boolean {
  return TLS_REFUSALS.has(String((error as NodeJS.ErrnoException | undefined)?.code ?? ""));
}

/** A connection that tries once, bounded by `timeoutMs`: no reconnects, no queueing. */
function probeConnection(settings: RedisConfig, timeoutMs: number): RedisClient {
  const bounded = { ...settings, connectTimeout: timeoutMs, commandTimeout: timeoutMs };
  if (settings.cluster) {
    const options = clusterOptions(bounded, "command");
    return new Cluster(settings.cluster.map(parseNode), {
      ...options,
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: () => null,
      maxRedirections: 4,
      redisOptions: { ...options.redisOptions, maxRetriesPerRequest: 0 },
    });
  }
  return new Redis({
    ...redisOptions(bounded, "command"),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: null,
    sentinelRetryStrategy: () => null,
  });
}

/** What certrotor does on Redis, once, on a key of its own that expires by itself. */
async function exercise(probe: RedisClient, prefix: string): Promise<void> {
  const key = `${prefix}:probe:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const step = async (command: string, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      (error as { command?: string }).command = command;
      throw error;
    }
  };
  await probe.connect();
  await step("PING", () => probe.ping());
  await step("INFO", () => probe.info("server"));
  await step(`SET ${key}`, () => probe.set(key, "1", "PX", 10_000));
  await step(`EVAL on ${key}`, () =>
    probe.eval("return redis.call('PEXPIRE', KEYS[1], ARGV[1])", 1, key, 10_000),
  );
  await step(`DEL ${key}`, () => probe.del(key));
}

function refusal(settings: RedisConfig, error: unknown): CertrotorError {
  const where = describeRedis(settings);
  const command = (error as { command?: string }).command;
  const said = redisMessage(error);
  if (isAccessDenied(error)) {
    const permission = /NOPERM/.test(said);
    return new CertrotorError(
      "REDIS_ACCESS_DENIED",
      permission
        ? `Redis at ${where} refused ${command ?? "a command"} to user "${settings.username ?? "default"}": ${said}`
        : `Redis at ${where} refused the connection: ${said}`,
      {
        cause: error,
        hint: permission
          ? `the ACL user must have the keys ${settings.prefix}* and the commands in infra/redis/certrotor.acl`
          : "check redis.username / redis.password (or the user and password in redis.url) and the ACL rules of that user",
      },
    );
  }
  if (isTlsRefusal(error)) {
    return new CertrotorError(
      "REDIS_TLS_REFUSED",
      `the TLS certificate of Redis at ${where} was refused: ${said}`,
      {
        cause: error,
        hint:
          (error as NodeJS.ErrnoException).code === "ERR_TLS_CERT_ALTNAME_INVALID"
            ? "set redis.tls.serverName to a name the Redis server certificate carries (or dial that name)"
            : "set redis.tls.caFile to the CA that signed the Redis server certificate",
      },
    );
  }
  if (isNotWritable(error)) {
    return new CertrotorError("REDIS_UNAVAILABLE", `Redis at ${where} does not take writes: ${said}`, {
      cause: error,
      hint: "it is a replica or has lost its master: point certrotor at the master, or use the cluster or sentinel form so it finds the master itself",
    });
  }
  return new CertrotorError("REDIS_UNAVAILABLE", `Redis at ${where} is not reachable`, {
    cause: error,
    hint: "start redis-server, or set redis.url (REDIS_URL); without Redis, rotate --inline runs on the state dir",
  });
}

/**
 * Resolves once Redis answers and lets certrotor's user write under its prefix; throws
 * REDIS_ACCESS_DENIED (user, password, permissions), REDIS_TLS_REFUSED (certificate) or REDIS_UNAVAILABLE
 * (not reachable, not writable, or no answer within `timeoutMs`).
 */
export async function assertRedisReachable(settings: RedisConfig, timeoutMs = 2_000): Promise<void> {
  const probe = probeConnection(settings, timeoutMs);
  const seen: unknown[] = [];
  probe.on("error", (error: unknown) => seen.push(error));
  probe.on("node error", (error: unknown) => seen.push(error));
  const noAnswer = new Error(`no answer within ${timeoutMs} ms`);
  try {
    const outcome = await within(
      exercise(probe, settings.prefix).then(
        () => undefined,
        (error: unknown) => error,
      ),
      timeoutMs + 500,
      noAnswer,
    );
    if (outcome === undefined) return;
    // the reason is often in an error event rather than in the failed call (a refused AUTH, a TLS alert)
    const reason =
      [outcome, ...seen].find(isAccessDenied) ?? [outcome, ...seen].find(isTlsRefusal) ?? outcome;
    throw refusal(settings, reason);
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
 * Waits for Redis to take our writes, for at most `timeoutMs`: a worker started while Redis restarts (both
 * deployed at once, a failover) comes up when Redis does instead of exiting. Tries 250 ms apart, doubling
 * to 5 s; throws REDIS_UNAVAILABLE once the bound would be passed, or when `signal` aborts. A refusal
 * (REDIS_ACCESS_DENIED, REDIS_TLS_REFUSED) is thrown at once: waiting does not change it.
 */
export async function waitForRedis(settings: RedisConfig, options: WaitForRedisOptions): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  for (let delay = 250, tries = 0; ; delay = Math.min(delay * 2, 5_000), tries++) {
    try {
      await assertRedisReachable(settings, Math.max(100, Math.min(2_000, until - Date.now())));
      return;
    } catch (error) {
      const unavailable = error as CertrotorError;
      if (unavailable.code !== "REDIS_UNAVAILABLE") throw unavailable;
      if (options.signal?.aborted || Date.now() + delay >= until) throw unavailable;
      if (tries === 0) options.onWait?.(unavailable);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
      if (options.signal?.aborted) throw unavailable;
    }
  }
}

/**
 * /readyz's Redis check: a write (SET PX on `key`, which expires by itself) through `client`. "ok", or
 * why not: a replica or a master that lost its quorum answers READONLY/MASTERDOWN, a dead one nothing.
 */
export async function writeProbe(client: RedisClient, key: string): Promise<string> {
  try {
    await client.set(key, String(Date.now()), "PX", 10_000);
    return "ok";
  } catch (error) {
    return `${isNotWritable(error) ? "not writable" : "unreachable"}: ${redisMessage(error)}`;
  }
}
