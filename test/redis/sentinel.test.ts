/**
 * certrotor on a real Sentinel setup (a master, a replica, three redis-sentinel processes on loopback):
 * the workers ask the sentinels for the master, and follow it through a SIGKILL of the master.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type SentinelGroup, startSentinelGroup } from "../harness/redis.js";
import { aWatchedWorld, onRedis, rotateThroughFailover } from "./helpers.js";

describe("Redis Sentinel", () => {
  let group: SentinelGroup;
  before(async () => {
    group = await startSentinelGroup({ name: "certrotor", replicas: 1, downAfterMs: 1_000 });
  });
  after(async () => {
    await group?.stop();
  });

  it("survives a SIGKILL of the master mid-run: every rotation completes, /readyz goes down and up, few log lines", async () => {
    const world = await aWatchedWorld({ credentials: 6 });
    try {
      const config = onRedis(
        world.config,
        { sentinel: { sentinels: group.sentinels, name: group.name } },
        { concurrency: 2 },
      );
      await rotateThroughFailover(world, config, async () => {
        const { previous, promoted, ms } = await group.failover();
        const promotedAt = Date.now();
        assert.notEqual(promoted, previous);
        // the old master comes back (empty, believing it is a master) until the sentinels demote it
        await previous.up();
        return { promotedAt, ms };
      });
      // The old master came back empty: the sentinels must never hand it the master role as it is. (Under
      // load they may fail over once more, to it, after it resynced as a replica: that keeps the data, so
      // the check is on what the master holds, not on which process it is.)
      const master = await group.master();
      const redis = new Redis(master.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        assert.match(await redis.info("replication"), /role:master/);
        assert.ok(
          (await redis.dbsize()) > 0,
          `the master the sentinels report (${master.address}) holds certrotor's data`,
        );
      } finally {
        redis.disconnect();
      }
    } finally {
      await world.stop();
    }
  });
});
