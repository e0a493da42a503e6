import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import { type RedisServer, startRedis } from "./redis.js";

describe("the test harness's redis-server", () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it("answers PING on its own loopback port", async () => {
    const client = new Redis(redis.url);
    try {
      assert.equal(await client.ping(), "PONG");
      assert.notEqual(redis.port, 6379);
    } finally {
      client.disconnect();
    }
  });

  it("carries a BullMQ job round trip", async () => {
    const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue("harness", { connection, prefix: "{test}" });
    const events = new QueueEvents("harness", { connection, prefix: "{test}" });
    const worker = new Worker("harness", async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
      connection,
      prefix: "{test}",
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add("double", { n: 21 });
      const result = await job.waitUntilFinished(events, 10_000);
      assert.deepEqual(result, { doubled: 42 });
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });

  it("restarts on the same port and is reachable again", async () => {
    const before = redis.pid();
    await redis.restart();
    assert.notEqual(redis.pid(), before);
    const client = new Redis(redis.url);
    try {
      assert.equal(await client.ping(), "PONG");
    } finally {
      client.disconnect();
    }
  });
});
