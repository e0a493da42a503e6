/**
 * `rotate --wait` never waits silently forever: with no worker consuming the rotate queue it refuses
 * within --worker-timeout and queues nothing; when the last worker goes away while it waits, it says so
 * and exits non-zero, naming the job that stays queued. With a worker it follows the rotation to its end.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { BIN, CLI_ENV, certrotor } from "../fixtures/cli.js";
import { assertRefused, installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { dumpRedis, queueConfig, RotateWatcher, spawnWorker, stopWorker, writeConfig } from "./helpers.js";

describe("rotate --wait", () => {
  let redis: RedisServer;
  let world: TestWorld;
  let configPath: string;

  before(async () => {
    redis = await startRedis();
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    configPath = await writeConfig(world.dir, queueConfig(world.config, redis.url));
  });
  after(async () => {
    await world.stop();
    await redis.stop();
  });

  it("with no worker refuses within --worker-timeout, queues nothing and changes nothing", async () => {
    const files = await installationSnapshot(world);
    const keys = await dumpRedis(redis.url);
    const run = await certrotor(
      "rotate",
      "cred-0",
      "--wait",
      "--worker-timeout",
      "1s",
      "--config",
      configPath,
    );
    assertRefused(run, "NO_WORKER", 69, /no worker consumed the rotate queue within 1s; nothing was queued/);
    assert.equal(await installationSnapshot(world), files);
    assert.equal(await dumpRedis(redis.url), keys, "no job, no journal entry");
  });

  it("follows a rotation that a worker runs to its end and exits 0", async () => {
    const worker = spawnWorker(configPath);
    try {
      await worker.ready;
      const run = await certrotor(
        "rotate",
        "cred-0",
        "--wait",
        "--worker-timeout",
        "5s",
        "--config",
        configPath,
      );
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^(succeeded|retire-due): rotation rot_/m);
    } finally {
      await stopWorker(worker);
    }
  });
  it("says so and exits 69 when the only worker dies while it waits, naming the job left queued", async () => {
    // the bank's admin API answers slowly, so the rotation is still in its first step when the worker dies
    world.sandbox.setFaults({ admin: { latencyMs: 60_000 } });
    const watcher = await RotateWatcher.start(redis.url, "{certrotor}");
    const worker = spawnWorker(configPath);
    try {
      await worker.ready;
      const planning = watcher.nextStep("plan");
      const rotate = spawn(
        process.execPath,
        [BIN, "rotate", "cred-0", "--wait", "--worker-timeout", "1s", "--config", configPath],
        { env: { ...process.env, ...CLI_ENV }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      rotate.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      rotate.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = once(rotate, "exit");
      await planning;
      await stopWorker(worker, "SIGKILL");
      const [code] = (await exited) as [number | null];
      assert.match(stdout, /^queued rotation (rot_[0-9a-f]{32}) of cred-0 \(job rotate-cred-0\)$/m);
      const line = assertRefused({ code, stdout, stderr }, "NO_WORKER", 69);
      assert.match(
        line,
        /no worker has consumed the rotate queue for \d+s; rotation rot_\w+ stays queued \(job rotate-cred-0\)/,
      );
    } finally {
      world.sandbox.setFaults({});
      await stopWorker(worker, "SIGKILL");
      await watcher.close();
    }
  });
});
