/**
 * Redis as a trust boundary: the ACL user of infra/redis/certrotor.acl (certrotor's key prefix, the
 * commands BullMQ and certrotor use, nothing else) runs a worker through rotations, and users without
 * those permissions, or with a wrong password, are refused at start-up with REDIS_ACCESS_DENIED.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { certrotor } from "../fixtures/cli.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { RotateWatcher, spawnWorker, stopWorker, writeConfig } from "../queue/helpers.js";
import {
  aWatchedWorld,
  assertAllRotated,
  enqueueAll,
  onRedis,
  producerOn,
  type WatchedWorld,
} from "./helpers.js";

const ACL_FILE = fileURLToPath(new URL("../../infra/redis/certrotor.acl", import.meta.url));
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("the ACL user of infra/redis/certrotor.acl", () => {
  const password = randomBytes(18).toString("base64url");
  let rules: string;
  let redis: RedisServer;
  let admin: Redis;
  let world: WatchedWorld;

  before(async () => {
    rules = (await readFile(ACL_FILE, "utf8")).trim();
    world = await aWatchedWorld({ credentials: 2 });
    const users = [
      rules.replace("PASSWORD_SHA256", sha256(password)),
      // the same user without the scripts BullMQ and the journal run, and one on another prefix
      rules
        .replace("user certrotor", "user no-scripts")
        .replace("PASSWORD_SHA256", sha256(password))
        .replace(" +eval +evalsha", ""),
      rules
        .replace("user certrotor", "user other-prefix")
        .replace("PASSWORD_SHA256", sha256(password))
        .replace("~{certrotor}*", "~{other}*"),
      // the test's own view of Redis (the default user keeps every permission here)
      "user default on nopass ~* &* +@all",
    ];
    const aclPath = join(world.dir, "users.acl");
    await writeFile(aclPath, `${users.join("\n")}\n`, { mode: 0o600 });
    redis = await startRedis({ args: () => ["--aclfile", aclPath] });
    admin = new Redis(redis.url);
  });
  after(async () => {
    admin?.disconnect();
    await redis?.stop();
    await world?.stop();
  });

  it("is limited to certrotor's prefix and the commands it needs", async () => {
    assert.match(
      rules,
      /^user certrotor on #PASSWORD_SHA256 resetkeys ~\{certrotor\}\* resetchannels -@all /,
    );
    assert.equal(rules.split("\n").length, 1, "one ACL line (ACL files take no comments)");
    const dryRun = (...command: string[]): Promise<unknown> =>
      admin.call("ACL", "DRYRUN", "certrotor", ...command).catch((error: Error) => error.message);
    assert.equal(await dryRun("SET", "{certrotor}:rotate:x", "1"), "OK");
    assert.equal(await dryRun("EVALSHA", "0".repeat(40), "1", "{certrotor}:rotate:x"), "OK");
    assert.equal(await dryRun("BZPOPMIN", "{certrotor}:rotate:marker", "1"), "OK");
    for (const refused of [
      ["SET", "someone-else:key", "1"],
      ["GET", "{other}:key"],
      ["FLUSHALL"],
      ["FLUSHDB"],
      ["KEYS", "*"],
      ["SCAN", "0"],
      ["CONFIG", "GET", "requirepass"],
      ["CLIENT", "KILL", "ID", "1"],
      ["ACL", "LIST"],
      ["SHUTDOWN"],
      ["DEBUG", "SLEEP", "0"],
      ["SCRIPT", "FLUSH"],
      ["PUBLISH", "{certrotor}:x", "1"],
    ]) {
      assert.match(
        String(await dryRun(...refused)),
        /no permissions|not allowed|permission/i,
        refused.join(" "),
      );
    }
  });

  it("runs a worker through rotations, the CLI beside it, and Redis logs no denied command", async () => {
    await admin.call("ACL", "LOG", "RESET");
    const config = onRedis(world.config, { url: redis.url, username: "certrotor", password });
    const configPath = await writeConfig(world.dir, config);
    const watcher = await RotateWatcher.start(redis.url, config.redis!.prefix);
    const { producer, close } = producerOn(config.redis!);
    const worker = spawnWorker(configPath);
    try {
      await worker.ready;
      await enqueueAll(producer, world);
      await watcher.within(world.credentials.length, 120_000);
      assert.equal(watcher.failed.size, 0, [...watcher.failed.values()].join("; "));
      await assertAllRotated(world);
      const status = await certrotor("status", "cred-0", "--history", "--config", configPath);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /succeeded/);
      assert.equal(await stopWorker(worker), 0, worker.output());
      assert.deepEqual(await admin.call("ACL", "LOG"), [], "no command of certrotor's was denied");
      assert.ok(!worker.output().includes(password), "the password is not in the log");
    } finally {
      await stopWorker(worker, "SIGKILL");
      await close();
      await watcher.close();
    }
  });

  it("refuses at start-up, with REDIS_ACCESS_DENIED and exit 64, a user without the permissions or a wrong password", async () => {
    const cases = [
      {
        redis: { username: "other-prefix", password },
        says: /REDIS_ACCESS_DENIED: Redis at redis:\/\/127\.0\.0\.1:\d+\/? refused SET \{certrotor\}:probe:\S+ to user "other-prefix": NOPERM .*\(hint: the ACL user must have the keys \{certrotor\}\* and the commands in infra\/redis\/certrotor\.acl\)/,
      },
      {
        redis: { username: "no-scripts", password },
        says: /REDIS_ACCESS_DENIED: .* refused EVAL on \{certrotor\}:probe:\S+ to user "no-scripts": NOPERM .*'eval'/,
      },
      {
        redis: { username: "certrotor", password: `${password}-wrong` },
        says: /REDIS_ACCESS_DENIED: Redis at .* refused the connection: WRONGPASS .*\(hint: check redis\.username \/ redis\.password/,
      },
    ];
    for (const [i, { redis: auth, says }] of cases.entries()) {
      const config = onRedis(world.config, { url: redis.url, ...auth });
      const worker = spawnWorker(await writeConfig(world.dir, config, `denied-${i}.json`));
      const [code] = (await once(worker.child, "exit")) as [number | null];
      assert.equal(code, 64, worker.output());
      assert.match(worker.output(), says);
      assert.equal(worker.output().match(/^certrotor: /gm)?.length, 1, `one line: ${worker.output()}`);
      assert.ok(!worker.output().includes(password), "the password is not in the message");
    }
  });
});
