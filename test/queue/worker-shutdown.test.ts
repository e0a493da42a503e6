/**
 * A worker asked to stop while its Redis is gone still stops: its queue workers are released and its
 * connections closed without waiting for a Redis that may never answer (ioredis queues a QUIT behind the
 * commands waiting for the reconnection, and with BullMQ's unlimited retries they wait for ever). The real
 * CLI in a child process; the bound on its exit is the worker's shutdownTimeout plus room for the machine.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closeConnection, redisConnection } from "../../src/redis/connection.js";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import { bounded, exitOf, outputMatches, queueConfig, spawnWorker, writeConfig } from "./helpers.js";

const SHUTDOWN_TIMEOUT_MS = 3_000;

describe("a worker whose Redis is gone", () => {
  it("stops on SIGTERM, exit code 0, instead of waiting for Redis to come back", async () => {
    const redis = await startRedis();
    const world = await aWorld({ store: "file", issuer: "local-ca" });
    const config = queueConfig(world.config, redis.url, { shutdownTimeout: SHUTDOWN_TIMEOUT_MS });
    const worker = spawnWorker(await writeConfig(world.dir, config));
    try {
      await worker.ready;
      await redis.stop();
      // the worker noticed: its connections are reconnecting, with commands queued behind them
      await outputMatches(worker, /ECONNREFUSED|Connection is closed|redis/i, 30_000);
      worker.child.kill("SIGTERM");
      const { code, signal } = await exitOf(worker, SHUTDOWN_TIMEOUT_MS + 30_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; output:\n${worker.output()}`);
      });
      assert.equal(signal, null, worker.output());
      assert.equal(code, 0, worker.output());
    } finally {
      worker.child.kill("SIGKILL");
      await world.stop();
      await redis.stop();
    }
  });

  it("closeConnection returns for a connection that is reconnecting with a command queued (a QUIT would wait for ever)", async () => {
    const redis = await startRedis();
    const client = redisConnection({ url: redis.url, prefix: "{t}", connectTimeout: 1_000 }, "blocking");
    client.on("error", () => undefined);
    try {
      await client.ping();
      await redis.stop();
      // waits in the offline queue for a reconnection (BullMQ's connections retry for ever)
      client.get("k").catch(() => undefined);
      await bounded(closeConnection(client), 10_000, "closeConnection to return");
      assert.notEqual(client.status, "ready");
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});
