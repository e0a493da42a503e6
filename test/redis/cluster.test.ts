/**
 * certrotor on a real Redis Cluster (3 masters, 3 replicas, on loopback): workers given a node that does
 * not own certrotor's slot, and a SIGKILL of that slot's master in the middle of rotations.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RedisCluster, startRedisCluster } from "../harness/redis.js";
import { RotateWatcher, spawnWorker, stopWorker, writeConfig } from "../queue/helpers.js";
import {
  aWatchedWorld,
  assertAllRotated,
  enqueueAll,
  onRedis,
  producerOn,
  redisErrorLines,
  rotateThroughFailover,
} from "./helpers.js";

const PREFIX = "{certrotor}";

describe("Redis Cluster", () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 1_000 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it("rotates through workers given only a node that does not own certrotor's slot", async () => {
    const { master } = await cluster.rolesOf(PREFIX);
    const elsewhere = cluster.nodes.find((node) => node !== master)!;
    const world = await aWatchedWorld({ credentials: 3 });
    const config = onRedis(world.config, { cluster: [elsewhere.address], prefix: PREFIX });
    const { producer, close } = producerOn(config.redis!);
    const watcher = await RotateWatcher.start(config.redis!, config.redis!.prefix);
    const worker = spawnWorker(await writeConfig(world.dir, config));
    try {
      await worker.ready;
      await enqueueAll(producer, world);
      await watcher.within(3, 120_000);
      assert.equal(watcher.failed.size, 0, [...watcher.failed.values()].join("; "));
      await assertAllRotated(world);
      assert.equal(await stopWorker(worker), 0, worker.output());
      assert.deepEqual(redisErrorLines(worker.output()), [], "no MOVED or other Redis error reached the log");
    } finally {
      await stopWorker(worker, "SIGKILL");
      await watcher.close();
      await close();
      await world.stop();
    }
  });

  it("survives a SIGKILL of the slot's master mid-run: every rotation completes, /readyz goes down and up, few log lines", async () => {
    const { master } = await cluster.rolesOf(PREFIX);
    const world = await aWatchedWorld({ credentials: 6 });
    try {
      // the workers know one node only, the one about to die: the others are discovered
      const config = onRedis(world.config, { cluster: [master.address], prefix: PREFIX }, { concurrency: 2 });
      await rotateThroughFailover(world, config, async () => {
        const { promoted, ms } = await cluster.failover(master);
        const promotedAt = Date.now();
        assert.notEqual(promoted, master);
        // the dead master comes back, as a replica of its successor: what made every write a MOVED before
        await master.up();
        return { promotedAt, ms };
      });
      await cluster.waitHealthy();
      assert.notEqual(
        (await cluster.rolesOf(PREFIX)).master,
        master,
        "the slot stays with the promoted replica",
      );
    } finally {
      await world.stop();
    }
  });
});
