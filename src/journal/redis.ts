/**
 * The journal in Redis, for workers sharing one Redis.
 *
 * Keys under `prefix` (default "{certrotor}:journal:"; keep a {hash tag} in it so every key shares one
 * Cluster slot, as the scripts touch several):
 * - `rotation:<rotationId>`    hash of the record's fields (+ `_rev`, a revision for compare-and-set, and
 *                               `_w`, the nonce of the update that wrote it)
 * - `credential:<credentialId>` sorted set of rotation ids scored by startedAt (ms): history, bounded to
 *                               `maxHistory` (the oldest finished rotations and their hashes are deleted)
 * - `active`                    sorted set: rotations running or retire-due, scored by startedAt
 * - `retire-due`                sorted set: rotations in status retire-due, scored by retireDueAt
 * - `audit:<credentialId>`      list of AuditEvent JSON, newest first, trimmed to `maxAudit`
 * - `audit-seen:<rotationId>`   set of the audit keys (action|fingerprint) a rotation has recorded, so an
 *                               event is appended once; deleted with the rotation's hash when pruned
 *
 * Fenced writes (a Fence: lock key + token) pass the lock's `held` key (locks/redis.ts) as the last KEYS
 * entry and the token as ARGV[1]: the script refuses the write (-2 → LOCK_LOST) unless that key still
 * holds "<token>:...", so the check and the write are one atomic step.
 *
 * update() reads the hash, merges the patch in JS (record.ts, the same rules as the file journal) and
 * writes back with a Lua compare-and-set on `_rev`, retrying on a concurrent change: no WATCH, so the
 * connection can be shared with other users. Each update() carries a nonce that its write stores in `_w`:
 * when Redis restarts after running the write but before its reply arrives, ioredis sends the command
 * again, and the script answers "done" for its own nonce instead of "revision moved" (which would make
 * update() reread a record it had itself finished and refuse with RECORD_FINISHED).
 */
import { randomUUID } from "node:crypto";
import type { RedisClient } from "../redis/connection.js";
import { CertrotorError } from "../errors.js";
import { luaScript, redisError } from "../redis/lua.js";
import { assertNoSecrets } from "./guard.js";
import { applyChange, assertValidRecord, isActiveStatus, materializeFenced, newestFirst } from "./record.js";
import { redisLockKeys } from "../locks/redis.js";
import {
  type AuditEvent,
  auditKey,
  type Fence,
  type Journal,
  type RotationPatch,
  type RotationRecord,
} from "./types.js";

export interface RedisJournalOptions {
  prefix?: string;
  /** Key prefix of the lock manager (locks/redis.ts) whose leases fence this journal's writes. */
  lockPrefix?: string;
  now?: () => Date;
  maxHistory?: number;
  maxAudit?: number;
}

const CAS_TRIES = 20;

/** Shared with the task store (tasks/redis.ts). ARGV[1] is the fence token or ''; the held key, when fenced, is the last of KEYS. */
export const FENCE_LUA = `local function fenced()
  if ARGV[1] == '' then return true end
  local held = redis.call('GET', KEYS[#KEYS])
  return held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':'
end
`;

// Keeps `active` and `retire-due` in step with one record. ARGV: id, active score|'', retire score|''.
const SYNC = `${FENCE_LUA}local function sync(active, retire, id, activeScore, retireScore)
  if activeScore == '' then redis.call('ZREM', active, id) else redis.call('ZADD', active, activeScore, id) end
  if retireScore == '' then redis.call('ZREM', retire, id) else redis.call('ZADD', retire, retireScore, id) end
end
`;

// KEYS: rotation, credential, active, retire[, held]. ARGV: fence token|'', id, credentialId, startedAtMs,
// activeScore, retireScore, maxHistory, rotation key prefix, audit-seen key prefix, field/value pairs...
const BEGIN = luaScript(
  "journal begin",
  `${SYNC}
if not fenced() then return -2 end
local owner = redis.call('HGET', KEYS[1], 'credentialId')
if owner then
  if owner ~= ARGV[3] then return -1 end
  redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[2])
  return 0
end
redis.call('HSET', KEYS[1], '_rev', '1', unpack(ARGV, 10))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
sync(KEYS[3], KEYS[4], ARGV[2], ARGV[5], ARGV[6])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[7])
if excess > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    local status = redis.call('HGET', ARGV[8] .. id, 'status')
    if status ~= 'running' and status ~= 'retire-due' and status ~= 'awaiting-registration' then
      redis.call('DEL', ARGV[8] .. id, ARGV[9] .. id)
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
return 1`,
);

// KEYS: rotation, active, retire[, held]. ARGV: fence token|'', expected _rev, id, activeScore,
// retireScore, nonce, field/value pairs...
const WRITE = luaScript(
  "journal update",
  `${SYNC}
if not fenced() then return -2 end
if redis.call('HGET', KEYS[1], '_w') == ARGV[6] then return 1 end
if redis.call('HGET', KEYS[1], '_rev') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '_rev', tostring(tonumber(ARGV[2]) + 1), '_w', ARGV[6], unpack(ARGV, 7))
sync(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5])
return 1`,
);

// KEYS: audit list, audit-seen set ('' key when the event has no rotation)[, held]. ARGV: fence token|'',
// event JSON, maxAudit, audit key|''.
const AUDIT = luaScript(
  "journal audit",
  `${FENCE_LUA}
if not fenced() then return -2 end
if ARGV[4] ~= '' and redis.call('SADD', KEYS[2], ARGV[4]) == 0 then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1`,
);

// KEYS: held. ARGV: fence token. 1 while the lease holds.
const FENCE_HOLDS = luaScript(
  "journal fence check",
  `${FENCE_LUA}
return fenced() and 1 or 0`,
);

function toFields(record: RotationRecord): string[] {
  return Object.entries(record).flatMap(([field, value]) =>
    value === undefined ? [] : [field, String(value)],
  );
}

function fromFields(hash: Record<string, string>): RotationRecord | null {
  if (!hash.rotationId) return null;
  const { _rev, _w, attempts, ...rest } = hash;
  return { ...rest, attempts: Number(attempts) } as unknown as RotationRecord;
}

function scores(record: RotationRecord): [string, string] {
  const active = isActiveStatus(record.status) ? String(Date.parse(record.startedAt)) : "";
  const retire =
    record.status === "retire-due" && record.retireDueAt ? String(Date.parse(record.retireDueAt)) : "";
  return [active, retire];
}

/** A Journal on a caller-owned ioredis connection; `close()` leaves the connection open. */
export function createRedisJournal(redis: RedisClient, options: RedisJournalOptions = {}): Journal {
  const prefix = options.prefix ?? "{certrotor}:journal:";
  const now = options.now ?? (() => new Date());
  const maxHistory = options.maxHistory ?? 50;
  const maxAudit = options.maxAudit ?? 1000;
  const key = {
    rotation: (id: string) => `${prefix}rotation:${id}`,
    credential: (id: string) => `${prefix}credential:${id}`,
    audit: (id: string) => `${prefix}audit:${id}`,
    seen: (rotationId: string) => `${prefix}audit-seen:${rotationId}`,
    active: `${prefix}active`,
    retire: `${prefix}retire-due`,
  };
  /** [KEYS to append, ARGV[1]] of a write under `fence`. */
  const fenceArgs = (fence: Fence | undefined): [string[], string] => {
    if (!fence) return [[], ""];
    if (!options.lockPrefix) throw new CertrotorError("INTERNAL", "journal: a fenced write needs lockPrefix");
    return [[redisLockKeys(options.lockPrefix, fence.key).held], String(fence.token)];
  };
  const refused = (fence: Fence | undefined, what: string): CertrotorError =>
    new CertrotorError(
      "LOCK_LOST",
      `journal: refused ${what}: lock "${fence?.key}" is no longer held under token ${fence?.token}`,
      { details: { key: fence?.key, token: fence?.token } },
    );
  const call = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw redisError(action, error);
    }
  };

  async function load(ids: string[]): Promise<RotationRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(key.rotation(id));
    const replies = (await call("journal read", () => pipeline.exec())) ?? [];
    return replies
      .map(([error, hash]) => (error ? null : fromFields(hash as Record<string, string>)))
      .filter((r): r is RotationRecord => r !== null);
  }

  async function readWithRev(rotationId: string): Promise<{ record: RotationRecord; rev: string } | null> {
    const hash = await call("journal read", () => redis.hgetall(key.rotation(rotationId)));
    const record = fromFields(hash);
    return record && hash._rev ? { record, rev: hash._rev } : null;
  }

  async function begin(record: RotationRecord, fence?: Fence): Promise<void> {
    assertValidRecord(record);
    assertNoSecrets(record, `rotation "${record.rotationId}"`);
    const [held, token] = fenceArgs(fence);
    const keys = [
      key.rotation(record.rotationId),
      key.credential(record.credentialId),
      key.active,
      key.retire,
      ...held,
    ];
    const [active, retire] = scores(record);
    const args = [
      token,
      record.rotationId,
      record.credentialId,
      Date.parse(record.startedAt),
      active,
      retire,
    ];
    const reply = await BEGIN.run(redis, keys, [
      ...args,
      maxHistory,
      key.rotation(""),
      key.seen(""),
      ...toFields(record),
    ]);
    if (reply === -2) throw refused(fence, `to begin rotation "${record.rotationId}"`);
    if (reply === -1) {
      throw new CertrotorError(
        "INTERNAL",
        `journal: rotation "${record.rotationId}" belongs to another credential`,
      );
    }
  }

  async function update(rotationId: string, patch: RotationPatch, fence?: Fence): Promise<RotationRecord> {
    const [held, token] = fenceArgs(fence);
    const nonce = randomUUID();
    for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
      const found = await readWithRev(rotationId);
      if (!found) {
        throw new CertrotorError("NOT_FOUND", `journal: no rotation "${rotationId}"`, {
          details: { rotationId },
        });
      }
      const change = await materializeFenced(found.record, patch, now(), async () => {
        if (fence && (await FENCE_HOLDS.run(redis, held, [token])) !== 1)
          throw refused(fence, `to update rotation "${rotationId}"`);
      });
      const next = applyChange(found.record, change);
      assertValidRecord(next);
      assertNoSecrets(change.set, `rotation "${rotationId}"`);
      const keys = [key.rotation(rotationId), key.active, key.retire, ...held];
      const args = [token, found.rev, rotationId, ...scores(next), nonce, ...toFields(next)];
      const reply = await WRITE.run(redis, keys, args);
      if (reply === -2) throw refused(fence, `to update rotation "${rotationId}"`);
      if (reply === 1) return next;
    }
    throw new CertrotorError("INTERNAL", `journal: rotation "${rotationId}" kept changing during update`, {
      retryable: true,
    });
  }

  async function history(credentialId: string, limit = 20): Promise<RotationRecord[]> {
    const ids = await call("journal history", () =>
      redis.zrevrange(key.credential(credentialId), 0, limit - 1),
    );
    return (await load(ids)).sort(newestFirst);
  }

  async function retireDue(at: Date): Promise<RotationRecord[]> {
    const ids = await call("journal retire-due", () => redis.zrangebyscore(key.retire, "-inf", at.getTime()));
    return (await load(ids)).filter((r) => r.status === "retire-due");
  }

  async function audit(event: AuditEvent, fence?: Fence): Promise<boolean> {
    assertNoSecrets(event, `audit event "${event.action}" of credential "${event.credentialId}"`);
    const [held, token] = fenceArgs(fence);
    const idempotency = auditKey(event);
    // without a rotation the seen set is not used; the audit list's own key stands in (same slot)
    const seen = event.rotationId ? key.seen(event.rotationId) : key.audit(event.credentialId);
    const keys = [key.audit(event.credentialId), seen, ...held];
    const reply = await AUDIT.run(redis, keys, [token, JSON.stringify(event), maxAudit, idempotency ?? ""]);
    if (reply === -2) throw refused(fence, `audit event "${event.action}"`);
    return reply === 1;
  }

  async function auditTrail(credentialId: string, limit = 100): Promise<AuditEvent[]> {
    const lines = await call("journal audit trail", () =>
      redis.lrange(key.audit(credentialId), 0, limit - 1),
    );
    return lines.map((line) => JSON.parse(line) as AuditEvent);
  }

  return {
    begin,
    update,
    get: async (rotationId) => (await readWithRev(rotationId))?.record ?? null,
    latest: async (credentialId) => (await history(credentialId, 1))[0] ?? null,
    history,
    active: async () => load(await call("journal active", () => redis.zrange(key.active, "0", "-1"))),
    retireDue,
    audit,
    auditTrail,
    close: async () => undefined,
  };
}
