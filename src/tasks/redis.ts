/**
 * Human tasks in Redis, beside the journal (same connection, same state prefix).
 *
 * Keys under `prefix` (the runtime passes "<redis.prefix>:state:tasks:", inside the {hash tag}):
 * - `task:<id>` string: the task's JSON (its `rev` is the compare-and-set token)
 * - `open`      sorted set: ids of open tasks, scored by createdAt (ms)
 * - `all`       sorted set: every task id, scored by createdAt; bounded to `maxTasks` (closed ones pruned)
 *
 * A fenced write (a rotation's) passes the lock's `held` key as the last KEYS entry, exactly as the
 * journal does (journal/redis.ts FENCE_LUA): the script refuses it (-2 → LOCK_LOST) unless the lease
 * still holds, atomically with the write.
 *
 * A write whose value is already stored answers "done": when Redis restarts after running a script but
 * before its reply arrives, ioredis sends the command again, and the second run must not read the first
 * one's result as a concurrent change (update would retry on top of its own write; claim would report
 * the task taken by someone else).
 */
import { CertrotorError } from "../errors.js";
import { FENCE_LUA } from "../journal/redis.js";
import type { Fence } from "../journal/types.js";
import { redisLockKeys } from "../locks/redis.js";
import type { RedisClient } from "../redis/connection.js";
import { luaScript, redisError } from "../redis/lua.js";
import { applyTaskPatch, newestTaskFirst, newTask, unknownTask } from "./record.js";
import type { HumanTask, TaskStore } from "./types.js";

// KEYS: task, open, all[, held]. ARGV: fence token|'', id, createdAt ms, json, maxTasks, task key prefix.
const CREATE = luaScript(
  "task open",
  `${FENCE_LUA}
if not fenced() then return -2 end
local existing = redis.call('GET', KEYS[1])
if existing == ARGV[4] then return 1 end
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if excess > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, excess - 1)) do
    if redis.call('ZSCORE', KEYS[2], id) == false then
      redis.call('DEL', ARGV[6] .. id)
      redis.call('ZREM', KEYS[3], id)
    end
  end
end
return 1`,
);

// KEYS: task, open[, held]. ARGV: fence token|'', expected rev, json, id, still open (1|0).
const WRITE = luaScript(
  "task update",
  `${FENCE_LUA}
if not fenced() then return -2 end
local existing = redis.call('GET', KEYS[1])
if not existing then return -1 end
if existing == ARGV[3] then return 1 end
if cjson.decode(existing).rev ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
if ARGV[5] == '0' then redis.call('ZREM', KEYS[2], ARGV[4]) end
return 1`,
);

const CAS_TRIES = 20;

export interface RedisTaskOptions {
  prefix: string;
  /** Key prefix of the lock manager whose leases fence the writes (as the journal's). */
  lockPrefix: string;
  /** Tasks kept (open ones always; the oldest closed ones beyond this are deleted). Default 1000. */
  maxTasks?: number;
}

export function createRedisTasks(redis: RedisClient, options: RedisTaskOptions): TaskStore {
  const { prefix } = options;
  const key = {
    task: (id: string) => `${prefix}task:${id}`,
    open: `${prefix}open`,
    all: `${prefix}all`,
  };
  const fenceArgs = (fence: Fence | undefined): [string[], string] =>
    fence ? [[redisLockKeys(options.lockPrefix, fence.key).held], String(fence.token)] : [[], ""];
  const refused = (fence: Fence | undefined, what: string): CertrotorError =>
    new CertrotorError(
      "LOCK_LOST",
      `tasks: refused ${what}: lock "${fence?.key}" is no longer held under token ${fence?.token}`,
      { details: { key: fence?.key, token: fence?.token } },
    );
  const call = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw redisError(action, error);
    }
  };
  const parse = (json: string | null): HumanTask | null => (json ? (JSON.parse(json) as HumanTask) : null);

  async function load(ids: string[]): Promise<HumanTask[]> {
    if (ids.length === 0) return [];
    const values = await call("tasks read", () => redis.mget(...ids.map(key.task)));
    return values.map(parse).filter((t): t is HumanTask => t !== null);
  }

  const get = async (id: string): Promise<HumanTask | null> =>
    parse(await call("tasks read", () => redis.get(key.task(id))));

  return {
    async open(input, now, fence) {
      const task = newTask(input, now);
      const [held, token] = fenceArgs(fence);
      const reply = await CREATE.run(
        redis,
        [key.task(task.id), key.open, key.all, ...held],
        [
          token,
          task.id,
          Date.parse(task.createdAt),
          JSON.stringify(task),
          options.maxTasks ?? 1000,
          key.task(""),
        ],
      );
      if (reply === -2) throw refused(fence, `to open task "${task.id}"`);
      if (reply === 1) return { task, created: true };
      return { task: parse(String(reply)) ?? task, created: false };
    },
    get,
    async list(filter = {}) {
      const ids = await call("tasks list", () =>
        redis.zrevrange(filter.status === "open" ? key.open : key.all, 0, -1),
      );
      return (await load(ids))
        .filter(
          (t) =>
            (!filter.status || t.status === filter.status) &&
            (!filter.credentialId || t.credentialId === filter.credentialId) &&
            (!filter.rotationId || t.rotationId === filter.rotationId),
        )
        .sort(newestTaskFirst);
    },
    async update(id, patch, now, fence) {
      const [held, token] = fenceArgs(fence);
      for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
        const current = await get(id);
        if (!current) throw unknownTask(id);
        const next = applyTaskPatch(current, patch, now);
        const reply = await WRITE.run(
          redis,
          [key.task(id), key.open, ...held],
          [token, current.rev, JSON.stringify(next), id, next.status === "open" ? "1" : "0"],
        );
        if (reply === -2) throw refused(fence, `to update task "${id}"`);
        if (reply === -1) throw unknownTask(id);
        if (reply === 1) return next;
      }
      throw new CertrotorError("INTERNAL", `tasks: task "${id}" kept changing during update`, {
        retryable: true,
      });
    },
    async claim(id, rev, patch, now) {
      const current = await get(id);
      if (!current) throw unknownTask(id);
      if (current.rev !== rev) return null;
      const next = applyTaskPatch(current, patch, now);
      const reply = await WRITE.run(
        redis,
        [key.task(id), key.open],
        ["", rev, JSON.stringify(next), id, next.status === "open" ? "1" : "0"],
      );
      return reply === 1 ? next : null;
    },
    close: async () => undefined,
  };
}
