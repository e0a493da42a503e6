/**
 * One lease per credential across every entry point: `rotate --inline` on a Redis deployment takes the
 * workers' lease. While a worker holds it (paused mid-rotation), the inline run fails at once with LOCKED
 * naming the holder and touches nothing; while an inline run holds it (its process paused mid-rotation),
 * a worker's rotate job is delayed, not failed, and changes nothing until the inline run is over.
 * The leases (rotation lease, job lock) are long (60 s): a paused holder keeps them for the whole test.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { Config } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { createProducer } from "../../src/queue/producer.js";
import { createRuntime } from "../../src/runtime.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import {
  BIN,
  bounded,
  exitOf,
  outputMatches,
  queueConfig,
  RotateWatcher,
  runCli,
  spawnProcess,
  spawnWorker,
  type WorkerProcess,
  writeConfig,
} from "./helpers.js";
import { viewOf } from "./world-view.js";

const STALL_CHILD = fileURLToPath(new URL("./stall-child.mjs", import.meta.url));
/** stall-child.mjs runs on the run's compiled CLI when npm test built one, else on the sources through tsx. */
const STALL_LOADER = process.env.CERTROTOR_TEST_CLI ? [] : ["--import", "tsx"];
const LEASE_MS = 60_000;

/** A world and a Redis with one credential, a config with long leases, and what the tests read with. */
async function setUp(issuer: "bank" | "local-ca") {
  const redis = await startRedis();
  const world = await aWorld({ store: "file", issuer });
  const config: Config = {
    // the job lock too: a worker paused longer than its job lock would see its own job stalled and re-run
    ...queueConfig(world.config, redis.url, { rotationLease: LEASE_MS, jobLockDuration: LEASE_MS }),
    schedules: { ...world.config.schedules, scan: "0 0 0 1 1 *" },
  };
  const configPath = await writeConfig(world.dir, config);
  const prefix = config.redis!.prefix;
  const watcher = await RotateWatcher.start(redis.url, prefix);
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const producer = createProducer(connection, prefix);
  const runtime = await createRuntime(config, { logger: createLogger({ level: "silent" }) });
  const processes: WorkerProcess[] = [];
  const view = (rotationId: string) =>
    viewOf({
      runtime,
      sandbox: world.sandbox,
      credentialId: "cred-0",
      rotationId,
      notify: producer.queues.notify,
    });
  return {
    world,
    configPath,
    watcher,
    producer,
    processes,
    view,
    async tearDown() {
      for (const proc of processes) {
        proc.child.kill("SIGKILL");
        await exitOf(proc, 10_000).catch(() => undefined);
      }
      await producer.close();
      connection.disconnect();
      await watcher.close();
      await runtime.close();
      await world.stop();
      await redis.stop();
    },
  };
}

/** Bank requests that change something, and the store's current version and pending material. */
function touched(view: Awaited<ReturnType<typeof viewOf>>, world: TestWorld) {
  return {
    bankWrites: view.bankWrites,
    store: view.store,
    bound: world.sandbox
      .boundCertificates(world.credentials[0]!.clientId)
      .map((b) => b.certificate.fingerprint),
  };
}

describe("one lease per credential for the workers and rotate --inline", { concurrency: 2 }, () => {
  it("rotate --inline while a worker holds the lease fails with LOCKED naming the worker, touching nothing", async () => {
    const t = await setUp("bank");
    try {
      const holder = spawnProcess(
        [...STALL_LOADER, STALL_CHILD, t.configPath, "issue:start"],
        "stall-child: listening",
      );
      t.processes.push(holder);
      await bounded(holder.ready, 30_000, "the worker comes up");
      const queued = await t.producer.enqueueRotate({
        credentialId: "cred-0",
        trigger: "on-demand",
        attempts: 3,
      });
      await outputMatches(holder, "stall-child: paused at issue:start", 30_000);
      const before = touched(await t.view(queued.rotationId), t.world);

      const inline = await runCli(["rotate", "cred-0", "--inline", "--config", t.configPath]);
      assert.equal(inline.code, 2, inline.stdout + inline.stderr);
      const lines = inline.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, inline.stderr);
      assert.match(
        lines[0]!,
        new RegExp(
          `^certrotor: LOCKED: lock "rotation:cred-0" is held by "${hostname()}:${holder.child.pid}" \\(lease ends in \\d+s\\)`,
        ),
      );
      assert.deepEqual(
        touched(await t.view(queued.rotationId), t.world),
        before,
        "the inline run changed nothing",
      );

      // the worker, woken within its lease, finishes its rotation as if nothing happened
      holder.child.kill("SIGCONT");
      await bounded(t.watcher.until(1), 60_000, "the worker finishes the rotation");
      assert.equal((t.watcher.completed.get(queued.jobId) as { status?: string }).status, "succeeded");
      assert.doesNotMatch(holder.output(), /lost the rotation lease/);
    } finally {
      await t.tearDown();
    }
  });

  it("a worker's rotate job while rotate --inline holds the lease is delayed, not failed, and changes nothing", async () => {
    const t = await setUp("local-ca");
    try {
      const worker = spawnWorker(t.configPath);
      t.processes.push(worker);
      await bounded(worker.ready, 30_000, "the worker comes up");
      const inline = spawnProcess(
        [BIN, "rotate", "cred-0", "--inline", "--config", t.configPath],
        "rotate cred-0 (inline)",
      );
      t.processes.push(inline);
      // plan took the lease; the local CA's issue and the file store's stage make no network call that a
      // pause could time out
      await outputMatches(inline, /^ {2}plan +\d+ ms$/m, 30_000);
      inline.child.kill("SIGSTOP");
      const before = touched(await t.view("-"), t.world);

      const delayed: string[] = [];
      const twice = new Promise<void>((resolve) =>
        t.watcher.events.on("delayed", ({ jobId }) => {
          delayed.push(jobId);
          if (delayed.length >= 2) resolve();
        }),
      );
      const queued = await t.producer.enqueueRotate({
        credentialId: "cred-0",
        trigger: "schedule",
        attempts: 3,
      });
      // looked at again once the holder's lease would end (at most 5 s later), LOCKED again, delayed again
      await bounded(twice, 30_000, "the rotate job is delayed twice");
      assert.deepEqual([...new Set(delayed)], [queued.jobId]);
      const job = await t.producer.queues.rotate.getJob(queued.jobId);
      assert.equal(await job?.getState(), "delayed");
      assert.equal(job?.attemptsMade, 0, "a LOCKED look spends no attempt");
      assert.equal(t.watcher.failed.size, 0);
      assert.deepEqual(touched(await t.view("-"), t.world), before, "the worker changed nothing");

      inline.child.kill("SIGCONT");
      assert.equal((await exitOf(inline, 30_000)).code, 0, inline.output());
      assert.match(inline.output(), /succeeded: rotation rot_[0-9a-f]+, new certificate/);
      // after the inline run the job runs: the credential was just rotated, so a scheduled one is not due
      await bounded(t.watcher.until(1), 30_000, "the rotate job completes");
      assert.equal((t.watcher.completed.get(queued.jobId) as { status?: string }).status, "not-due");
      assert.equal(t.watcher.failed.size, 0);
      const after = touched(await t.view("-"), t.world);
      assert.notEqual(after.store.fingerprint, before.store.fingerprint);
      assert.deepEqual(after.bound, [after.store.fingerprint]);
    } finally {
      await t.tearDown();
    }
  });
});
