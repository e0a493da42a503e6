import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createFileJournal } from "../../src/journal/file.js";
import { createRedisJournal } from "../../src/journal/redis.js";
import { createFileLockManager } from "../../src/locks/file.js";
import { createRedisLockManager } from "../../src/locks/redis.js";
import { describeJournal, HISTORY_BOUND } from "../contract/journal.contract.js";
import { startRedis } from "../harness/redis.js";

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
