/**
 * The human task store, both adapters (Redis on a real redis-server, files under a temp dir) through the
 * same cases: opening is idempotent per (rotation, kind), a write under a released lease is refused with
 * LOCK_LOST and changes nothing, a closed task does not reopen, anything secret-looking is refused, and
 * list filters by status and credential.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { isCertrotorError } from "../../src/errors.js";
import { createFileLockManager } from "../../src/locks/file.js";
import { createRedisLockManager } from "../../src/locks/redis.js";
import type { LockManager } from "../../src/locks/types.js";
import { createFileTasks, createRedisTasks, type NewTask, type TaskStore } from "../../src/tasks/index.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { type RedisServer, startRedis } from "../harness/redis.js";

interface Setup {
  tasks: TaskStore;
  locks: LockManager;
  cleanup(): Promise<void>;
}

const adapters: Record<string, () => Promise<Setup>> = {
  file: async () => {
    const dir = await mkdtemp(join(tmpdir(), "certrotor-tasks-"));
    const locks = createFileLockManager(join(dir, "locks"));
    return {
      tasks: createFileTasks(join(dir, "tasks"), { leaseState: locks.leaseState }),
      locks,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  redis: async () => {
    const server: RedisServer = await startRedis();
    const client = new Redis(server.url);
    const prefix = "{t}:state:";
    return {
      tasks: createRedisTasks(client, { prefix: `${prefix}tasks:`, lockPrefix: `${prefix}lock:` }),
      locks: createRedisLockManager(client, { prefix: `${prefix}lock:` }),
      async cleanup() {
        client.disconnect();
        await server.stop();
      },
    };
  },
};

for (const [kind, make] of Object.entries(adapters)) {
  describe(`task store (${kind})`, () => {
    let setup: Setup;
    let certPem: string;
    let fingerprint: string;
    const now = new Date("2026-12-01T10:00:00Z");
    const input = (rotationId: string, credentialId = "cred-a"): NewTask => ({
      kind: "bind-certificate",
      credentialId,
      rotationId,
      bank: "portal",
      clientId: "client-a",
      deadline: "2026-12-20T00:00:00.000Z",
      certPem,
      fingerprint,
      notAfter: "2027-12-01T00:00:00.000Z",
      portalUrl: "https://portal.bank.example/",
    });
    before(async () => {
      setup = await make();
      const cert = await aClientCert({ ca: await aCa() });
      certPem = cert.certPem;
      fingerprint = cert.fingerprint;
    });
    after(() => setup.cleanup());

    it("opens a task once per rotation and kind: a second open returns the first, unchanged", async () => {
      const first = await setup.tasks.open(input("rot_1"), now);
      assert.equal(first.created, true);
      assert.equal(first.task.status, "open");
      assert.equal(first.task.certPem, certPem);
      const again = await setup.tasks.open(input("rot_1"), new Date(now.getTime() + 60_000));
      assert.equal(again.created, false);
      assert.deepEqual(again.task, first.task);
      assert.equal((await setup.tasks.list({ rotationId: "rot_1" })).length, 1);
    });

    it("refuses writes under a lease that is gone (LOCK_LOST) and changes nothing", async () => {
      const lease = await setup.locks.acquire("credential:cred-b", { ttlMs: 10_000, owner: "test" });
      const { task } = await setup.tasks.open(input("rot_2", "cred-b"), now, lease);
      await setup.tasks.update(task.id, { checks: 1 }, now, lease);
      await lease.release();
      await assert.rejects(
        () => setup.tasks.update(task.id, { status: "done" }, now, lease),
        (error) => isCertrotorError(error, "LOCK_LOST"),
      );
      await assert.rejects(
        () => setup.tasks.open(input("rot_3", "cred-b"), now, lease),
        (error) => isCertrotorError(error, "LOCK_LOST"),
      );
      const stored = await setup.tasks.get(task.id);
      assert.equal(stored?.status, "open");
      assert.equal(stored?.checks, 1);
      assert.equal(await setup.tasks.get("task_none"), null);
      assert.equal((await setup.tasks.list({ rotationId: "rot_3" })).length, 0);
    });

    it("closes a task for good: TASK_CLOSED on a later change of status; lists by status", async () => {
      const { task } = await setup.tasks.open(input("rot_4", "cred-c"), now);
      const done = await setup.tasks.update(task.id, { status: "done", closedBy: "operator:ana" }, now);
      assert.equal(done.rev, task.rev + 1);
      await assert.rejects(
        () => setup.tasks.update(task.id, { status: "cancelled" }, now),
        (error) => isCertrotorError(error, "TASK_CLOSED"),
      );
      await assert.rejects(
        () => setup.tasks.update("task_unknown", { checks: 1 }, now),
        (error) => isCertrotorError(error, "UNKNOWN_TASK"),
      );
      const open = await setup.tasks.list({ status: "open", credentialId: "cred-c" });
      assert.deepEqual(open, []);
      const all = await setup.tasks.list({ credentialId: "cred-c" });
      assert.deepEqual(
        all.map((t) => [t.id, t.status]),
        [[task.id, "done"]],
      );
    });

    it("refuses a private key or a secret-looking value, storing nothing", async () => {
      const key =
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
      await assert.rejects(
        () => setup.tasks.open({ ...input("rot_5"), certPem: key }, now),
        (error) => isCertrotorError(error, "INTERNAL") && /certPem/.test(error.message),
      );
      await assert.rejects(
        () => setup.tasks.open({ ...input("rot_6"), portalUrl: `https://x/${"Ab3".repeat(30)}` }, now),
        (error) => isCertrotorError(error, "INTERNAL"),
      );
      assert.equal((await setup.tasks.list({ rotationId: "rot_5" })).length, 0);
      assert.equal((await setup.tasks.list({ rotationId: "rot_6" })).length, 0);
    });
  });
}
