/**
 * A worker paused past its lease (SIGSTOP) at each step boundary and right after each external effect,
 * while another worker (the real CLI) takes the job over and finishes the rotation; then SIGCONT. The
 * woken worker must act on nothing: no certificate signed, bound or unbound, no token call, no store
 * write, no journal or audit write, no alert — it logs LOCK_LOST once and stops. Every wait is on an
 * event (a line printed, a queue event) with a bound.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { Config } from "../../src/config/schema.js";
import { STEPS } from "../../src/journal/types.js";
import { createLogger } from "../../src/observability/logger.js";
import { createProducer } from "../../src/queue/producer.js";
import { createRuntime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import {
  bounded,
  exitOf,
  outputMatches,
  queueConfig,
  RotateWatcher,
  spawnProcess,
  spawnWorker,
  type WorkerProcess,
  writeConfig,
} from "./helpers.js";
import { duplicateAuditEvents, secondCertificates } from "../fixtures/audit.js";
import { viewOf } from "./world-view.js";

const STALL_CHILD = fileURLToPath(new URL("./stall-child.mjs", import.meta.url));
/** stall-child.mjs runs on the run's compiled CLI when npm test built one, else on the sources through tsx. */
const STALL_LOADER = process.env.CERTROTOR_TEST_CLI ? [] : ["--import", "tsx"];

/**
 * Every step boundary (`<step>:start`) and the moment right after each step's external effect
 * (`<step>:effect`, before its audit event): the crash test's points, plus plan's effect and the start
 * of done (the final journal write). done:effect is left out: there the paused worker had finished.
 */
const POINTS = STEPS.flatMap((step) =>
  step === "done" ? ["done:start"] : [`${step}:start`, `${step}:effect`],
);

/** Lost-lease log line of the saga (src/rotation/saga.ts). */
const LOCK_LOST_LINE = "lost the rotation lease: stopping, acting on nothing";

const BOUND = { start: 30_000, pause: 30_000, takeover: 60_000, wake: 30_000, stop: 20_000 };

function pausedWorkerConfig(base: Config, redisUrl: string): Config {
  const config = queueConfig(base, redisUrl, { rotationLease: 3_000, jobLockDuration: 2_000 });
  return {
    ...config,
    // the success alert makes "no alert from the stale worker" a count that could change
    alerts: { ...config.alerts, notifyOnSuccess: true },
    // no scheduled scan during the test (it would queue rotations of its own)
    schedules: { ...config.schedules, scan: "0 0 0 1 1 *" },
  };
}

async function pauseAt(point: string): Promise<void> {
  const redis = await startRedis();
  const world = await aWorld({ store: "file", issuer: "bank" });
  const config = pausedWorkerConfig(world.config, redis.url);
  const prefix = config.redis!.prefix;
  const configPath = await writeConfig(world.dir, config);
  const watcher = await RotateWatcher.start(redis.url, prefix);
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const producer = createProducer(connection, prefix);
  const runtime = await createRuntime(config, { logger: createLogger({ level: "silent" }) });
  const stale = spawnProcess([...STALL_LOADER, STALL_CHILD, configPath, point], "stall-child: listening");
  let finisher: WorkerProcess | undefined;
  try {
    await bounded(stale.ready, BOUND.start, "the worker to pause comes up");
    const queued = await producer.enqueueRotate({
      credentialId: "cred-0",
      trigger: "on-demand",
      attempts: 3,
    });
    await outputMatches(stale, `stall-child: paused at ${point}`, BOUND.pause);

    // the other worker takes the job over once its lock and the rotation lease ran out, and finishes it
    finisher = spawnWorker(configPath);
    await bounded(finisher.ready, BOUND.start, "the finishing worker comes up");
    await bounded(
      watcher.until(1),
      BOUND.takeover,
      `the rotation is finished by the other worker (${point})`,
    );
    assert.deepEqual([...watcher.failed.values()], []);
    const result = watcher.completed.get(queued.jobId) as { status?: string; rotationId?: string };
    assert.equal(result.status, "succeeded");
    assert.equal(result.rotationId, queued.rotationId);
    finisher.child.kill("SIGTERM");
    assert.equal((await exitOf(finisher, BOUND.stop)).code, 0, finisher.output());

    const where = {
      runtime,
      sandbox: world.sandbox,
      credentialId: "cred-0",
      rotationId: queued.rotationId,
      notify: producer.queues.notify,
    };
    const before = await viewOf(where);
    assert.equal(before.record?.status, "succeeded");
    assert.equal(before.store.fingerprint, before.record?.newFingerprint);
    assert.ok(before.alerts >= 1, "the finishing worker queued its success alert");
    // the trail is complete although the rotation changed hands: the live cert's every step, once
    const events = before.trail
      .filter((e) => e.rotationId === queued.rotationId)
      .map((e) => `${e.action}:${e.details?.fingerprint ?? ""}`);
    for (const action of ["issued", "staged", "bound", "verified", "promoted"])
      assert.ok(
        events.includes(`${action}:${before.store.fingerprint}`),
        `${action} in ${events.join(", ")}`,
      );
    assert.ok(events.includes(`unbound:${world.credentials[0]!.fingerprint}`), events.join(", "));
    assert.deepEqual(duplicateAuditEvents(before.trail), []);

    // wake the paused worker; it has acted once it logs the lost lease (at plan:start it held no lease
    // yet: it takes the free lock, finds the rotation finished and does nothing); then it stops cleanly
    stale.child.kill("SIGCONT");
    await outputMatches(
      stale,
      point === "plan:start" ? "stall-child: reached plan:effect" : LOCK_LOST_LINE,
      BOUND.wake,
    );
    stale.child.kill("SIGTERM");
    assert.equal((await exitOf(stale, BOUND.stop)).code, 0, stale.output());

    const after = await viewOf(where);
    assert.deepEqual(after.counts, before.counts, "no certificate signed, bound or unbound, no token call");
    assert.deepEqual(after.bankWrites, before.bankWrites, "nothing else reached the bank");
    assert.deepEqual(after.store, before.store, "the store is untouched");
    assert.deepEqual(after.record, before.record, "the finished record did not change");
    assert.deepEqual(after.trail, before.trail, "no audit event added");
    assert.deepEqual(duplicateAuditEvents(after.trail), []);
    assert.deepEqual(secondCertificates(after.trail), []);
    assert.equal(after.alerts, before.alerts, "no alert from the woken worker");
    const lost = stale.output().split(LOCK_LOST_LINE).length - 1;
    assert.equal(lost, point === "plan:start" ? 0 : 1, `LOCK_LOST logged once:\n${stale.output()}`);
    assert.doesNotMatch(stale.output(), /"msg":"attempt failed"|failure not recorded/);

    const credential = await runtime.credential("cred-0");
    const deps = runtime.depsFor(credential);
    assert.deepEqual(
      await invariantViolations({
        store: deps.store,
        bank: deps.bank,
        ref: credential.ref,
        clientId: world.credentials[0]!.clientId,
      }),
      [],
    );
    assert.deepEqual(
      world.sandbox.boundCertificates(world.credentials[0]!.clientId).map((b) => b.certificate.fingerprint),
      [after.store.fingerprint],
    );
  } finally {
    for (const proc of [stale, finisher]) {
      proc?.child.kill("SIGKILL");
      if (proc) await exitOf(proc, BOUND.stop).catch(() => undefined);
    }
    await producer.close();
    connection.disconnect();
    await watcher.close();
    await runtime.close();
    await world.stop();
    await redis.stop();
  }
}

describe("a worker paused past its lease, then woken after another worker finished", {
  concurrency: 3,
}, () => {
  for (const point of POINTS) {
    it(`acts on nothing when woken at ${point}`, () => pauseAt(point));
  }
});
