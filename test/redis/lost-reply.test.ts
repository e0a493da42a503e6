/**
 * A write that Redis applied but whose reply was lost (a restart between the two) is sent again by
 * ioredis after it reconnects. The second run must answer "done", not read the first run's result as
 * someone else's change: the journal's update would reread a record it had itself finished and refuse
 * with RECORD_FINISHED (seen once in the Redis-restart resilience test), the task store's claim would
 * report the task taken, its open would report the task as already there, and a lock's acquire would
 * answer LOCKED against its own lease until the lease expired.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { isCertrotorError } from "../../src/errors.js";
import { createRedisJournal } from "../../src/journal/redis.js";
import { createRedisLockManager } from "../../src/locks/redis.js";
import type { RotationRecord } from "../../src/journal/types.js";
import { createRedisTasks } from "../../src/tasks/index.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { type LostReplyProxy, startLostReplyProxy } from "../harness/lost-reply-proxy.js";
import { type RedisServer, startRedis } from "../harness/redis.js";

describe("redis writes whose reply was lost are sent again and answer done", () => {
  let server: RedisServer;
  let proxy: LostReplyProxy;
  let client: Redis;
  let direct: Redis;
  before(async () => {
    server = await startRedis();
    proxy = await startLostReplyProxy(server.port);
    client = new Redis(proxy.url, { retryStrategy: () => 10 });
    direct = new Redis(server.url);
  });
  after(async () => {
    client.disconnect();
    direct.disconnect();
    await proxy.stop();
    await server.stop();
  });

  it("journal update: the resent write returns the record it wrote, and wrote it once", async () => {
    const journal = createRedisJournal(client, { prefix: "{lr}:journal:" });
    const record: RotationRecord = {
      rotationId: "rot-lost-reply",
      credentialId: "cred-lost-reply",
      trigger: "schedule",
      startedAt: "2026-12-04T10:00:00.000Z",
      updatedAt: "2026-12-04T10:00:00.000Z",
      step: "plan",
      stepStartedAt: "2026-12-04T10:00:00.000Z",
      status: "running",
      attempts: 1,
      oldFingerprint: "a".repeat(64),
    };
    await journal.begin(record);
    // an update first, so the write script is cached and the armed command is the one that runs
    await journal.update(record.rotationId, { step: "verify" });
    const lost = proxy.loseNextReply("lost-reply-finished");
    const finished = await journal.update(record.rotationId, {
      step: "retire",
      status: "succeeded",
      errorMessage: "lost-reply-finished",
    });
    await lost;
    assert.equal(finished.status, "succeeded");
    assert.equal(finished.step, "retire");
    assert.equal(await direct.hget("{lr}:journal:rotation:rot-lost-reply", "_rev"), "3", "written once");
    const read = await journal.get(record.rotationId);
    assert.deepEqual(read, finished);
    assert.equal(await direct.zcard("{lr}:journal:active"), 0, "a finished rotation is not active");
  });

  it("lock acquire: the resent acquire returns the lease it took; another owner still gets LOCKED", async () => {
    const locks = createRedisLockManager(client, { prefix: "{lr}:lock:" });
    await (await locks.acquire("warm", { ttlMs: 60_000, owner: "warm" })).release(); // caches the script
    const lost = proxy.loseNextReply("owner-lost-reply");
    const lease = await locks.acquire("cred-lost-reply", { ttlMs: 60_000, owner: "owner-lost-reply" });
    await lost;
    await lease.check(); // throws LOCK_LOST unless the lease is held under its token
    await assert.rejects(
      locks.acquire("cred-lost-reply", { ttlMs: 60_000, owner: "someone-else" }),
      (error) => isCertrotorError(error, "LOCKED") && /held by "owner-lost-reply"/.test(error.message),
    );
    await lease.release();
    const next = await locks.acquire("cred-lost-reply", { ttlMs: 60_000, owner: "someone-else" });
    assert.ok(next.token > lease.token, "the fencing token still increases");
    await next.release();
  });

  it("task store: a resent open reports the task created, a resent update and claim report them applied", async () => {
    const tasks = createRedisTasks(client, { prefix: "{lr}:state:tasks:", lockPrefix: "{lr}:state:lock:" });
    const cert = await aClientCert({ ca: await aCa() });
    const now = new Date("2026-12-04T10:00:00Z");
    const input = {
      kind: "bind-certificate" as const,
      credentialId: "cred-lost-reply",
      bank: "portal",
      clientId: "client-lost-reply",
      deadline: "2026-12-20T00:00:00.000Z",
      certPem: cert.certPem,
      fingerprint: cert.fingerprint,
      notAfter: "2027-12-01T00:00:00.000Z",
      portalUrl: "https://portal.bank.example/",
    };
    await tasks.open({ ...input, rotationId: "rot-warm" }, now); // caches the open script

    const lostOpen = proxy.loseNextReply("rot-lost-open");
    const opened = await tasks.open({ ...input, rotationId: "rot-lost-open" }, now);
    await lostOpen;
    assert.equal(opened.created, true, "the resent open is the one that created it");

    const warm = await tasks.update(opened.task.id, { remindersSent: 1 }, now); // caches the write script
    const lostUpdate = proxy.loseNextReply('"checks":7');
    const updated = await tasks.update(opened.task.id, { checks: 7 }, now);
    await lostUpdate;
    assert.equal(updated.checks, 7);
    assert.equal(updated.rev, warm.rev + 1, "written once");

    const lostClaim = proxy.loseNextReply('"remindersSent":2');
    const claimed = await tasks.claim(opened.task.id, updated.rev, { remindersSent: 2 }, now);
    await lostClaim;
    assert.ok(claimed, "the claim that landed is ours");
    assert.equal(claimed.remindersSent, 2);
    assert.deepEqual(await tasks.get(opened.task.id), claimed);
  });
});
