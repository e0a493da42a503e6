import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createFileJournal } from "../../src/journal/file.js";
import { createRedisJournal } from "../../src/journal/redis.js";
import { createFileLockManager } from "../../src/locks/file.js";
import { createRedisLockManager } from "../../src/locks/redis.js";
import { describeJournal, HISTORY_BOUND } from "../contract/journal.contract.js";
import { startRedis } from "../harness/redis.js";
import { describe, it } from "node:test";

describeJournal("file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "certrotor-journal-"));
  const locks = createFileLockManager(join(dir, "locks"));
  return {
    open: (now) => createFileJournal(dir, { now, maxHistory: HISTORY_BOUND, leaseState: locks.leaseState }),
    locks,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describeJournal("redis", async () => {
  const server = await startRedis();
  const clients: Redis[] = [];
  const prefix = `{j${process.pid}}:journal:`;
  const lockPrefix = `{j${process.pid}}:lock:`;
  const lockClient = new Redis(server.url);
  clients.push(lockClient);
  return {
    open: (now) => {
      const client = new Redis(server.url);
      clients.push(client);
      return createRedisJournal(client, { prefix, lockPrefix, now, maxHistory: HISTORY_BOUND });
    },
    locks: createRedisLockManager(lockClient, { prefix: lockPrefix }),
    async cleanup() {
      for (const client of clients) client.disconnect();
      await server.stop();
    },
  };
});

describe("file journal: audit repeats, read incrementally", () => {
  it("finds a repeat another instance appended, past a torn line, and again after the file is replaced", async () => {
    const dir = await mkdtemp(join(tmpdir(), "certrotor-journal-"));
    try {
      const [a, b] = [createFileJournal(dir), createFileJournal(dir)];
      const event = (fingerprint: string) => ({
        at: new Date(0).toISOString(),
        credentialId: "cred-1",
        rotationId: "rot-1",
        action: "issued" as const,
        actor: "inline" as const,
        details: { fingerprint },
      });
      assert.equal(await a.audit(event("f1")), true);
      assert.equal(await b.audit(event("f1")), false, "b reads what a appended");
      // a write torn by a crash, then whole lines after it: the torn line is skipped, the next one counts
      await appendFile(join(dir, "audit", "cred-1.jsonl"), '{"torn":');
      assert.equal(await b.audit(event("f2")), true);
      assert.equal(await a.audit(event("f2")), true, "a torn line swallows the line appended onto it");
      assert.equal(await a.audit(event("f2")), false);
      assert.equal(await b.audit(event("f2")), false);
      await rm(join(dir, "audit", "cred-1.jsonl"));
      assert.equal(await a.audit(event("f1")), true, "a removed trail is read afresh");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
