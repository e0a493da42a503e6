/**
 * The journal in Redis, for workers sharing one Redis.
 *
 * Keys under `prefix` (default "{certrotor}:journal:"; keep a {hash tag} in it so every key shares one
 * Cluster slot, as the scripts touch several):
 * - `rotation:<rotationId>`    hash of the record's fields (+ `_rev`, a revision for compare-and-set)
 * - `credential:<credentialId>` sorted set of rotation ids scored by startedAt (ms): history, bounded to
 *                               `maxHistory` (the oldest finished rotations and their hashes are deleted)
 * - `active`                    sorted set: rotations running or retire-due, scored by startedAt
 * - `retire-due`                sorted set: rotations in status retire-due, scored by retireDueAt
 * - `audit:<credentialId>`      list of AuditEvent JSON, newest first, trimmed to `maxAudit`
 *
 * update() reads the hash, merges the patch in JS (record.ts, the same rules as the file journal) and
 * writes back with a Lua compare-and-set on `_rev`, retrying on a concurrent change: no WATCH, so the
 * connection can be shared with other users.
 */
import type { RedisClient } from "../redis/connection.js";
import { CertrotorError } from "../errors.js";
import { luaScript, redisError } from "../redis/lua.js";
import { assertNoSecrets } from "./guard.js";
import { applyChange, assertValidRecord, isActiveStatus, materialize, newestFirst } from "./record.js";
import type { AuditEvent, Journal, RotationPatch, RotationRecord } from "./types.js";

export interface RedisJournalOptions {
  prefix?: string;
  now?: () => Date;
  maxHistory?: number;
  maxAudit?: number;
}

const CAS_TRIES = 20;

// Keeps `active` and `retire-due` in step with one record. ARGV: id, active score|'', retire score|''.
const SYNC = `local function sync(active, retire, id, activeScore, retireScore)
  if activeScore == '' then redis.call('ZREM', active, id) else redis.call('ZADD', active, activeScore, id) end
  if retireScore == '' then redis.call('ZREM', retire, id) else redis.call('ZADD', retire, retireScore, id) end
end
`;

// KEYS: rotation, credential, active, retire. ARGV: id, credentialId, startedAtMs, activeScore,
// retireScore, maxHistory, rotation key prefix, field/value pairs...
const BEGIN = luaScript(
  "journal begin",
  `${SYNC}
local owner = redis.call('HGET', KEYS[1], 'credentialId')
if owner then
  if owner ~= ARGV[2] then return -1 end
  redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], '_rev', '1', unpack(ARGV, 8))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
sync(KEYS[3], KEYS[4], ARGV[1], ARGV[4], ARGV[5])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if excess > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    local status = redis.call('HGET', ARGV[7] .. id, 'status')
    if status ~= 'running' and status ~= 'retire-due' then
      redis.call('DEL', ARGV[7] .. id)
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
return 1`,
);

// KEYS: rotation, active, retire. ARGV: expected _rev, id, activeScore, retireScore, field/value pairs...
const WRITE = luaScript(
  "journal update",
  `${SYNC}
if redis.call('HGET', KEYS[1], '_rev') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '_rev', tostring(tonumber(ARGV[1]) + 1), unpack(ARGV, 5))
sync(KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4])
return 1`,
);

// KEYS: audit list. ARGV: event JSON, maxAudit.
const AUDIT = luaScript(
  "journal audit",
  `redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1`,
);

function toFields(record: RotationRecord): string[] {
  return Object.entries(record).flatMap(([field, value]) =>
    value === undefined ? [] : [field, String(value)],
  );
}

function fromFields(hash: Record<string, string>): RotationRecord | null {
  if (!hash.rotationId) return null;
  const { _rev, attempts, ...rest } = hash;
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
    active: `${prefix}active`,
    retire: `${prefix}retire-due`,
  };
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

  async function begin(record: RotationRecord): Promise<void> {
    assertValidRecord(record);
    assertNoSecrets(record, `rotation "${record.rotationId}"`);
    const keys = [
      key.rotation(record.rotationId),
      key.credential(record.credentialId),
      key.active,
      key.retire,
    ];
    const [active, retire] = scores(record);
    const args = [record.rotationId, record.credentialId, Date.parse(record.startedAt), active, retire];
    const reply = await BEGIN.run(redis, keys, [...args, maxHistory, key.rotation(""), ...toFields(record)]);
    if (reply === -1) {
      throw new CertrotorError(
        "INTERNAL",
        `journal: rotation "${record.rotationId}" belongs to another credential`,
      );
    }
  }

  async function update(rotationId: string, patch: RotationPatch): Promise<RotationRecord> {
    for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
      const found = await readWithRev(rotationId);
      if (!found) {
        throw new CertrotorError("NOT_FOUND", `journal: no rotation "${rotationId}"`, {
          details: { rotationId },
        });
      }
      const change = materialize(found.record, patch, now());
      const next = applyChange(found.record, change);
      assertValidRecord(next);
      assertNoSecrets(change.set, `rotation "${rotationId}"`);
      const keys = [key.rotation(rotationId), key.active, key.retire];
      const reply = await WRITE.run(redis, keys, [found.rev, rotationId, ...scores(next), ...toFields(next)]);
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

  async function audit(event: AuditEvent): Promise<void> {
    assertNoSecrets(event, `audit event "${event.action}" of credential "${event.credentialId}"`);
    await AUDIT.run(redis, [key.audit(event.credentialId)], [JSON.stringify(event), maxAudit]);
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
