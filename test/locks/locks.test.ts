import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createFileLockManager } from "../../src/locks/file.js";
import { createRedisLockManager } from "../../src/locks/redis.js";
import type { Lease } from "../../src/locks/types.js";
import { describeLockManager } from "../contract/lock-manager.contract.js";
import { startRedis } from "../harness/redis.js";

describeLockManager("redis", async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const second = new Redis(server.url);
  const subscriber = new Redis(server.url);
  const prefix = `{t${process.pid}}:lock:`;
  // Redis announces each key it expires; the test waits for that event instead of sleeping.
  await redis.config("SET", "notify-keyspace-events", "Ex");
  await subscriber.subscribe("__keyevent@0__:expired");
  const expired = new Set<string>();
  subscriber.on("message", (_channel: string, key: string) => expired.add(key));
  return {
    manager: createRedisLockManager(redis, { prefix }),
    other: createRedisLockManager(second, { prefix }),
    shortTtlMs: 20,
    async expire(lease: Lease) {
      const held = `${prefix}held:{${lease.key}}`;
      while (!expired.has(held) && (await redis.exists(held)) === 1) await once(subscriber, "message");
    },
    async cleanup() {
      for (const client of [subscriber, second, redis]) client.disconnect();
      await server.stop();
    },
  };
});

describeLockManager("file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "certrotor-locks-"));
  let skew = 0; // the fake clock runs with the wall clock, plus whatever the test fast-forwards
  const now = (): number => Date.now() + skew;
  return {
    manager: createFileLockManager(dir, { now }),
    other: createFileLockManager(dir, { now }),
    shortTtlMs: 60_000,
    async expire(lease: Lease) {
      skew += Math.max(0, lease.expiresAt.getTime() - now()) + 1;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
