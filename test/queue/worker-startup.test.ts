/**
 * A worker that cannot start properly exits at once with its documented code and one line, instead of
 * running without /healthz or without Redis: `--port abc` (BAD_ARGUMENT, 64), a health port already taken
 * (LISTEN_FAILED, 69), a Redis refusing its password (REDIS_ACCESS_DENIED, 64). A rotation queued before
 * is still queued after each of them: the failed worker took no job. Each is the real CLI in a child
 * process. "Within 5 s" is a bound on the wait for its exit, counted from when the CLI is up: from its
 * spawn, plus what loading the CLI takes on this machine right now (`worker --help` just before, the same
 * modules and no work) — from source on 2 shared cores that alone varies from 1.5 s to over 5 s.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { createProducer } from "../../src/queue/producer.js";
import { aWorld } from "../fixtures/world.js";
import { freePort, startRedis } from "../harness/redis.js";
import { exitOf, queueConfig, runCli, spawnWorker, writeConfig } from "./helpers.js";

const PASSWORD = "worker-startup-test";
const EXIT_WITHIN_MS = 5_000;

describe("a worker that cannot start", () => {
  it("exits within 5 s with its code on a bad --port, a taken port and a refused password, taking no job", async (t) => {
    const redis = await startRedis();
    // requirepass set at run time (as --requirepass would at start): the harness's server has no option
    const admin = new Redis(redis.url);
    await admin.config("SET", "requirepass", PASSWORD);
    admin.disconnect();
    const url = `redis://:${PASSWORD}@${redis.host}:${redis.port}`;
    const world = await aWorld({ store: "file", issuer: "local-ca" });
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const taken = createServer();
    const config = queueConfig(world.config, url);
    const producer = createProducer(connection, config.redis!.prefix);
    try {
      const good = await writeConfig(world.dir, config);
      const wrongUrl = `redis://:not-the-password@${redis.host}:${redis.port}`;
      const wrong = await writeConfig(
        world.dir,
        { ...config, redis: { ...config.redis!, url: wrongUrl } },
        "wrong-password.json",
      );
      const port = await freePort();
      taken.listen(port, "127.0.0.1");
      await once(taken, "listening");

      const queued = await producer.enqueueRotate({
        credentialId: "cred-0",
        trigger: "on-demand",
        attempts: 3,
      });
      const bankRequests = world.sandbox.logs.length;
      const cases = [
        {
          what: "--port abc",
          args: [good, "--port", "abc"],
          exit: 64,
          line: /BAD_ARGUMENT: .*--port.*"abc"/,
        },
        {
          what: "a taken port",
          args: [good, "--port", String(port), "--host", "127.0.0.1"],
          exit: 69,
          line: new RegExp(`LISTEN_FAILED: .*${port}`),
        },
        {
          what: "a refused password",
          args: [wrong],
          exit: 64,
          line: /REDIS_ACCESS_DENIED: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? refused the connection: WRONGPASS/,
        },
      ];
      for (const c of cases) {
        const loading = Date.now();
        assert.equal((await runCli(["worker", "--help"], 60_000)).code, 0);
        const loadMs = Date.now() - loading;
        const [configPath, ...extra] = c.args;
        const spawned = Date.now();
        const worker = spawnWorker(configPath!, extra);
        const stderr: string[] = [];
        worker.child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
        const { code } = await exitOf(worker, loadMs + EXIT_WITHIN_MS).catch((error: unknown) => {
          worker.child.kill("SIGKILL");
          throw new Error(`${c.what}: ${String(error)}; output: ${worker.output()}`);
        });
        t.diagnostic(
          `${c.what}: exited ${Date.now() - spawned} ms after its spawn; loading the CLI took ${loadMs} ms`,
        );
        assert.equal(code, c.exit, `${c.what}: ${worker.output()}`);
        const errors = stderr
          .join("")
          .split("\n")
          .filter((line) => line.startsWith("certrotor: "));
        assert.equal(errors.length, 1, `${c.what}: one error line: ${worker.output()}`);
        assert.match(errors[0]!, c.line, c.what);
        assert.doesNotMatch(worker.output(), /INTERNAL|certrotor worker: listening/, c.what);
        assert.doesNotMatch(worker.output(), /not-the-password|worker-startup-test/, "no password printed");

        const job = await producer.queues.rotate.getJob(queued.jobId);
        assert.equal(await job?.getState(), "waiting", `${c.what}: the rotation is still queued`);
        assert.equal(job?.attemptsMade, 0, c.what);
        assert.equal(world.sandbox.logs.length, bankRequests, `${c.what}: nothing asked the bank`);
      }
    } finally {
      taken.close();
      await producer.close();
      connection.disconnect();
      await world.stop();
      await redis.stop();
    }
  });
});
