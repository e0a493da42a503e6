import assert from "node:assert/strict";
import { appendFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
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

describe("file journal: bounded index", () => {
  it("rewrites a credential's index down to the rotations it keeps, so begin's work does not grow with age", async () => {
    const dir = await mkdtemp(join(tmpdir(), "certrotor-journal-"));
    try {
      const journal = createFileJournal(dir, { maxHistory: 3 });
      const record = (i: number, status: "running" | "succeeded") => ({
        rotationId: `rot-${i}`,
        credentialId: "cred-1",
        trigger: "schedule" as const,
        startedAt: new Date(i * 1000).toISOString(),
        updatedAt: new Date(i * 1000).toISOString(),
        step: "plan" as const,
        stepStartedAt: new Date(i * 1000).toISOString(),
        status,
        attempts: 1,
      });
      await journal.begin(record(0, "running")); // an old rotation still running is never dropped
      for (let i = 1; i <= 40; i++) await journal.begin(record(i, "succeeded"));
      const index = (await readFile(join(dir, "credentials", "cred-1.jsonl"), "utf8")).trim().split("\n");
      assert.deepEqual(
        index.map((line) => (JSON.parse(line) as { rotationId: string }).rotationId),
        ["rot-0", "rot-38", "rot-39", "rot-40"],
      );
      assert.deepEqual((await readdir(join(dir, "rotations"))).sort(), [
        "rot-0.jsonl",
        "rot-38.jsonl",
        "rot-39.jsonl",
        "rot-40.jsonl",
      ]);
      assert.deepEqual(
        (await journal.history("cred-1", 10)).map((r) => r.rotationId),
        ["rot-40", "rot-39", "rot-38", "rot-0"],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
