import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import {
  createMemoryEpisodes,
  createRedisEpisodes,
  type EpisodeStore,
  episodeKey,
  parseEpisodeKey,
} from "../../src/alerts/episodes.js";
import { createFileEpisodes } from "../../src/alerts/episodes-file.js";
import { configSchema } from "../../src/config/schema.js";
import { statePrefix } from "../../src/runtime.js";
import { type RedisServer, startRedis } from "../harness/redis.js";

const t0 = new Date("2030-01-01T00:00:00.000Z");
const later = new Date("2030-01-02T00:00:00.000Z");

function describeEpisodes(name: string, make: () => Promise<EpisodeStore>): void {
  describe(`failure episodes (${name})`, () => {
    it("opens an episode once: the first open is true, every later one false until it is resolved", async () => {
      const episodes = await make();
      assert.equal(await episodes.open("cred-a", "rotation-failed", t0), true);
      assert.equal(await episodes.open("cred-a", "rotation-failed", later), false);
      assert.equal(await episodes.open("cred-a", "expired", later), true, "another kind is another episode");
      assert.equal(await episodes.open("cred-b", "rotation-failed", later), true, "another credential too");
      assert.deepEqual(await episodes.list("cred-a"), [
        { kind: "rotation-failed", openedAt: t0.toISOString() },
        { kind: "expired", openedAt: later.toISOString() },
      ]);
      assert.equal(await episodes.resolve("cred-a", "rotation-failed"), true);
      assert.equal(
        await episodes.open("cred-a", "rotation-failed", later),
        true,
        "a new episode after the end",
      );
    });

    it("resolves only the episode it was told about: a later episode of the same kind stays open", async () => {
      const episodes = await make();
      await episodes.open("cred-c", "drift", t0);
      assert.equal(await episodes.resolve("cred-c", "drift", later.toISOString()), false);
      assert.deepEqual(await episodes.list("cred-c"), [{ kind: "drift", openedAt: t0.toISOString() }]);
      assert.equal(await episodes.resolve("cred-c", "drift", t0.toISOString()), true);
      assert.deepEqual(await episodes.list("cred-c"), []);
      assert.equal(await episodes.resolve("cred-c", "drift"), false, "nothing left to resolve");
    });
  });
}

describe("episode keys", () => {
  it("are certrotor/<credential>/<kind>, stable, and parse back", () => {
    assert.equal(episodeKey("payments-prod", "rotation-failed"), "certrotor/payments-prod/rotation-failed");
    assert.deepEqual(parseEpisodeKey("certrotor/payments-prod/rotation-failed"), {
      credentialId: "payments-prod",
      kind: "rotation-failed",
    });
    assert.equal(parseEpisodeKey("certrotor/x/not-a-kind"), undefined);
    assert.equal(parseEpisodeKey("rot_123"), undefined);
  });
});

describeEpisodes("memory", async () => createMemoryEpisodes());

describe("the file episode store", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "certrotor-episodes-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describeEpisodes("file", async () => createFileEpisodes(join(dir, `run-${Math.random()}`)));

  it("outlives the store that opened an episode: another process's store sees it and alerts nothing", async () => {
    const where = join(dir, "shared");
    assert.equal(await createFileEpisodes(where).open("cred-f", "rotation-failed", t0), true);
    const next = createFileEpisodes(where);
    assert.equal(await next.open("cred-f", "rotation-failed", later), false);
    assert.deepEqual(await next.list("cred-f"), [{ kind: "rotation-failed", openedAt: t0.toISOString() }]);
  });

  it("lets exactly one of many concurrent opens of an episode win", async () => {
    const where = join(dir, "race");
    const results = await Promise.all(
      Array.from({ length: 20 }, () => createFileEpisodes(where).open("cred-r", "slots-full", t0)),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  it("keeps a credential id with slashes and dots inside its own folder", async () => {
    const where = join(dir, "names");
    const episodes = createFileEpisodes(where);
    await episodes.open("../evil/../cred", "expired", t0);
    assert.deepEqual(await episodes.list("../evil/../cred"), [
      { kind: "expired", openedAt: t0.toISOString() },
    ]);
    assert.deepEqual(await episodes.list("cred"), []);
  });
});

describe("the Redis episode store", () => {
  let server: RedisServer;
  let redis: Redis;
  const config = configSchema.parse({ redis: { url: "redis://127.0.0.1:6379", prefix: "{episodes-test}" } });
  const prefix = `${statePrefix(config.redis!)}alerts:episodes:`;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  describeEpisodes("redis", async () => createRedisEpisodes(redis, { prefix }));

  it("keeps its keys under the state prefix, inside the queue prefix's hash tag", async () => {
    const episodes = createRedisEpisodes(redis, { prefix });
    await episodes.open("cred-z", "expired", t0);
    const keys = await redis.keys("*");
    assert.ok(keys.length > 0);
    for (const key of keys) assert.ok(key.startsWith("{episodes-test}:state:alerts:episodes:"), key);
  });
});
