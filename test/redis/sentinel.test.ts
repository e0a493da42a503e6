/**
 * certrotor on a real Sentinel setup (a master, a replica, three redis-sentinel processes on loopback):
 * the workers ask the sentinels for the master, and follow it through a SIGKILL of the master.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
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
      assert.notEqual(await group.master(), group.servers[0], "the sentinels keep the promoted replica");
    } finally {
      await world.stop();
    }
  });
});
