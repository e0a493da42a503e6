/**
 * The loop closed for a consumer that is not Node (issue "Consumers follow rotations", part 2): a bash
 * consumer calls the sandbox bank with curl on the files `certrotor agent` writes, and reloads them on the
 * SIGHUP the agent sends, while a real worker (its own process, a real Redis) rotates the credential. No
 * call fails; once the consumer reloaded, the bank sees the old certificate no more, and the worker's
 * retire (idleBeforeRetire short, a sweep every second) unbinds it without CONSUMERS_ON_OLD_CERT.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { BIN } from "../fixtures/cli.js";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import {
  outputMatches,
  pollUntil,
  queueConfig,
  runCli,
  spawnProcess,
  spawnWorker,
  stopWorker,
  type WorkerProcess,
  writeConfig,
} from "../queue/helpers.js";

const CONSUMER = fileURLToPath(new URL("./curl-consumer.sh", import.meta.url));
/** The worker retires the old certificate once the bank saw it unused this long. */
const IDLE_MS = 1_500;

describe("certrotor agent with a curl consumer", () => {
  it("keeps the files on the current material across a worker's rotation: the consumer reloads on SIGHUP, no call fails, the old certificate goes idle and is retired", async () => {
    const redis = await startRedis();
    const world = await aWorld({ store: "file", issuer: "local-ca", renewal: { idleBeforeRetire: IDLE_MS } });
    const procs: WorkerProcess[] = [];
    let consumer: ReturnType<typeof spawn> | undefined;
    try {
      const configPath = await writeConfig(world.dir, {
        ...queueConfig(world.config, redis.url),
        schedules: { ...world.config.schedules, scan: "0 0 0 1 1 *", retire: "* * * * * *" },
      });
      const old = world.credentials[0]!;
      const out = join(world.dir, "agent");
      const pidFile = join(world.dir, "consumer.pid");
      const agent = spawnProcess(
        [
          ...[BIN, "--log-level", "info", "agent", "--config", configPath, "--credential", "cred-0"],
          ...["--out", out, "--interval", "200", "--signal", "HUP", "--pid-file", pidFile],
        ],
        "certrotor agent: following cred-0",
      );
      procs.push(agent);
      await agent.ready;
      // the consumer has not started: the start's write finds no pid file, warns and goes on
      assert.match(
        agent.output(),
        /the pid file cannot be read \(ENOENT\); no SIGHUP sent, the agent keeps going/,
      );

      const work = join(world.dir, "consumer");
      await mkdir(work, { mode: 0o700 });
      const body = join(work, "token-request.json");
      await writeFile(
        body,
        JSON.stringify({
          client_id: old.clientId,
          client_secret: old.clientSecret,
          grant_type: "client_credentials",
        }),
        { mode: 0o600 },
      );
      const bankCa = world.config.banks.sandbox!.caFile!;
      consumer = spawn("bash", [CONSUMER, out, world.sandbox.url, bankCa, body, "acc-1", pidFile, work], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      const lines: string[] = [];
      let consumerErr = "";
      /** How many bank requests the sandbox had logged when the consumer said it reloaded. */
      let logsAtReload = -1;
      let buffered = "";
      consumer.stdout!.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          lines.push(line);
          if (line === "reloaded" && logsAtReload < 0) logsAtReload = world.sandbox.logs.length;
        }
      });
      consumer.stderr!.on("data", (chunk: Buffer) => {
        consumerErr += chunk.toString();
      });
      const oks = () => lines.filter((line) => line.startsWith("ok ")).length;
      await pollUntil(async () => (oks() >= 3 ? true : undefined), 15_000, "the consumer's first calls");

      const worker = spawnWorker(configPath);
      procs.push(worker);
      await worker.ready;
      const rotate = await runCli(["rotate", "cred-0", "--wait", "--config", configPath]);
      assert.equal(rotate.code, 0, rotate.stdout + rotate.stderr);
      await pollUntil(async () => (logsAtReload >= 0 ? true : undefined), 15_000, "the consumer's reload");
      const bound = () => world.sandbox.boundCertificates(old.clientId).map((b) => b.certificate.fingerprint);
      await pollUntil(
        async () => (bound().includes(old.fingerprint) ? undefined : true),
        30_000,
        "the worker's retire sweep unbinds the old certificate",
      );
      const callsAtRetire = oks();
      await pollUntil(async () => (oks() >= callsAtRetire + 3 ? true : undefined), 15_000, "more calls");
      consumer.kill("SIGTERM");
      await outputMatches(agent, /consumer signalled/, 5_000);

      assert.deepEqual(
        lines.filter((line) => line.startsWith("fail")),
        [],
        `no call failed; consumer stderr: ${consumerErr}`,
      );
      const [newFingerprint] = bound();
      assert.ok(
        newFingerprint && newFingerprint !== old.fingerprint,
        "the bank holds the new certificate only",
      );
      const after = world.sandbox.logs.slice(logsAtReload);
      assert.equal(
        after.filter((entry) => entry.certFingerprint === old.fingerprint).length,
        0,
        "the bank never sees the old certificate once the consumer reloaded",
      );
      assert.ok(after.some((e) => e.certFingerprint === newFingerprint && e.endpoint === "token"));
      assert.ok(after.some((e) => e.certFingerprint === newFingerprint && e.endpoint !== "token"));
      assert.doesNotMatch(worker.output(), /CONSUMERS_ON_OLD_CERT/);
      assert.equal(await stopWorker(agent), 0, agent.output());
      for (const secret of [old.clientSecret, "PRIVATE KEY", "eyJ"])
        assert.ok(!agent.output().includes(secret), "the agent's output carries no secret");
    } finally {
      consumer?.kill("SIGKILL");
      for (const proc of procs) await stopWorker(proc);
      await world.stop();
      await redis.stop();
    }
  });
});
