/**
 * Lease locks in Redis, for workers sharing one Redis (or a Cluster).
 *
 * Keys, per lock key K (the `{K}` hash tag keeps both in one Cluster slot when the prefix has none):
 * - `<prefix>held:{K}`  = "<token>:<owner>#<nonce>", SET NX PX <ttl>: the lock itself, freed by Redis on
 *                         expiry; the nonce is the acquire's own, so an acquire that Redis ran but whose
 *                         reply was lost (a restart between the two) and that ioredis sends again
 *                         recognises its own lease instead of answering LOCKED against itself;
 * - `<prefix>fence:{K}` = the last fencing token, INCR'ed only by a successful acquire; never expires, so
 *                         tokens keep increasing across expiries, releases and restarts (with persistence).
 *
 * Acquire, renew, release and check are Lua scripts comparing the stored value with ours, so a holder
 * whose lease expired can never extend, free or pass a check on its successor's lock.
 */
import { randomUUID } from "node:crypto";
import type { RedisClient } from "../redis/connection.js";
import { luaScript } from "../redis/lua.js";
import { createLease, type LeaseState, lockedError } from "./lease.js";
import type { AcquireOptions, Lease, LockManager } from "./types.js";

const ACQUIRE = luaScript(
  "lock acquire",
  `local held = redis.call('GET', KEYS[1])
local mine = '#' .. ARGV[3]
if held and string.sub(held, -string.len(mine)) == mine then
  return {tonumber(string.match(held, '^(%d+):')), '', 0}
end
if held then return {0, held, redis.call('PTTL', KEYS[1])} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1] .. mine, 'NX', 'PX', ARGV[2])
return {token, '', 0}`,
);

const RENEW = luaScript(
  "lock renew",
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
);

const RELEASE = luaScript(
  "lock release",
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`,
);

const CHECK = luaScript(
  "lock check",
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(redis.call('GET', KEYS[2])) ~= tonumber(ARGV[2]) then return -1 end
return 1`,
);

export interface RedisLockOptions {
  /** Key prefix, e.g. "{certrotor}:lock:". */
  prefix: string;
  /** Clock for `expiresAt` (Redis itself enforces expiry). */
  now?: () => number;
}

/** The keys of lock `key` under `prefix`; the journal's fenced writes check `held` (journal/redis.ts). */
export function redisLockKeys(prefix: string, key: string): { held: string; fence: string } {
  return { held: `${prefix}held:{${key}}`, fence: `${prefix}fence:{${key}}` };
}

function stateOf(reply: unknown): LeaseState {
  if (reply === 1) return "held";
  return reply === -1 ? "superseded" : "lost";
}

/** A LockManager on a caller-owned ioredis connection; `close()` leaves the connection open. */
export function createRedisLockManager(redis: RedisClient, opts: RedisLockOptions): LockManager {
  const now = opts.now ?? Date.now;
  const keysOf = (key: string): [string, string] => {
    const { held, fence } = redisLockKeys(opts.prefix, key);
    return [held, fence];
  };

  async function acquire(key: string, { ttlMs, owner }: AcquireOptions): Promise<Lease> {
    const keys = keysOf(key);
    const nonce = randomUUID();
    const reply = (await ACQUIRE.run(redis, keys, [owner, Math.max(1, Math.ceil(ttlMs)), nonce])) as [
      number,
      string,
      number,
    ];
    const [token, held, pttl] = reply;
    if (token === 0) {
      const nonceAt = held.lastIndexOf("#");
      const holder = held.slice(held.indexOf(":") + 1, nonceAt < 0 ? undefined : nonceAt);
      throw lockedError(key, holder, pttl >= 0 ? pttl : undefined);
    }
    const value = `${token}:${owner}#${nonce}`;
    return createLease(
      { key, owner, token, ttlMs, now },
      {
        renew: async (ttl) =>
          stateOf(await RENEW.run(redis, [keys[0]], [value, Math.max(1, Math.ceil(ttl))])),
        release: async () => {
          await RELEASE.run(redis, [keys[0]], [value]);
        },
        check: async () => stateOf(await CHECK.run(redis, keys, [value, token])),
      },
    );
  }

  return {
    acquire,
    close: async () => undefined,
  };
}
