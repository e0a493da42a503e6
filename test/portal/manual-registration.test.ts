/**
 * registration: manual, through a worker on real Redis against a portal-only sandbox credential (the
 * admin API refuses to bind; only the portal can): the saga stages the new material, opens one
 * bind-certificate task and parks in awaiting-registration (no lock held, the job delayed, no attempt
 * spent); the test plays the person with `certrotor sandbox portal bind` once the task appears; the
 * worker's next token call with the new material proves the binding and the rotation promotes. After the
 * grace period an unbind-certificate task asks for the old certificate to go; the person unbinds it
 * (`sandbox portal unbind`) and the worker's token call with the old material, now refused, closes it.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { inspectCertificate } from "../../src/crypto/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { rotateJobId } from "../../src/queue/names.js";
import { acquireRotationLock } from "../../src/rotation/lock.js";
import { scan } from "../../src/rotation/scan.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import type { HumanTask, TaskKind } from "../../src/tasks/types.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import {
  pollUntil,
  queueConfig,
  runCli,
  spawnWorker,
  stopWorker,
  type WorkerProcess,
  writeConfig,
} from "../queue/helpers.js";

const PORTAL = "https://portal.bank.example/certificates";

describe("manual registration at a portal bank, through a worker", () => {
  let world: TestWorld;
  let redis: RedisServer;
  let runtime: Runtime;
  let worker: WorkerProcess;
  let configPath: string;
  let clientId: string;

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", bank: "portal", portalUrl: PORTAL });
    redis = await startRedis();
    const config = {
      ...queueConfig(world.config, redis.url),
      tasks: { ...world.config.tasks, pollEvery: 200, pollMax: 1_000 },
    };
    configPath = await writeConfig(world.dir, config);
    // what `certrotor sandbox --out` writes, for `sandbox portal ...` (the world wrote bank-ca.pem beside it)
    await writeFile(
      join(world.dir, "sandbox.json"),
      JSON.stringify({
        url: world.sandbox.url,
        portal_url: world.sandbox.portalUrl,
        portal_api_key: world.sandbox.portalApiKey,
        server_ca_file: "bank-ca.pem",
      }),
      { mode: 0o600 },
    );
    runtime = await createRuntime(config, { logger: createLogger({ level: "silent" }) });
    clientId = world.credentials[0]!.clientId;
    worker = spawnWorker(configPath);
    await worker.ready;
  });
  after(async () => {
    if (worker) await stopWorker(worker);
    await runtime?.close();
    await redis?.stop();
    await world?.stop();
  });

  const openTask = (kind: TaskKind) =>
    pollUntil(
      async () =>
        (await runtime.tasks.list({ status: "open", credentialId: "cred-0" })).find((t) => t.kind === kind),
      30_000,
      `an open ${kind} task (worker output: ${worker.output()})`,
    );
  const bound = () => world.sandbox.boundCertificates(clientId).map((b) => b.certificate.fingerprint);
  const person = async (action: "bind" | "unbind", task: HumanTask) => {
    const file = join(world.dir, `${task.id}.pem`);
    await writeFile(file, task.certPem!);
    const run = await runCli([
      "sandbox",
      "portal",
      action,
      "--client-id",
      clientId,
      "--cert",
      file,
      "--sandbox",
      world.dir,
    ]);
    assert.equal(run.code, 0, run.stderr);
  };

  it("parks on a bind task, goes on once the person bound the certificate, and retires through an unbind task", async () => {
    // --wait follows the job until it parks, then says which task it waits on
    const queued = await runCli(["rotate", "cred-0", "--wait", "--config", configPath], 60_000);
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(queued.stdout, /awaiting registration: rotation rot_\w+ waits on task task_[0-9a-f]{16}/);

    const bind = await openTask("bind-certificate");
    assert.equal(bind.portalUrl, PORTAL);
    assert.equal(bind.clientId, clientId);
    assert.match(bind.certPem ?? "", /^-----BEGIN CERTIFICATE-----/);
    const parked = await pollUntil(
      async () => {
        const record = await runtime.journal.latest("cred-0");
        return record?.status === "awaiting-registration" ? record : undefined;
      },
      10_000,
      "the rotation parked",
    );
    assert.equal(parked.step, "register");
    assert.equal(parked.newFingerprint, bind.fingerprint);

    // parked: no lock held (this process can take it), the job delayed (no worker slot), no attempt spent
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const rotateQueue = new Queue("rotate", { connection, prefix: "{certrotor}" });
    try {
      await pollUntil(
        async () =>
          (await (await rotateQueue.getJob(rotateJobId("cred-0")))?.getState()) === "delayed"
            ? true
            : undefined,
        10_000,
        "the rotate job delayed",
      );
    } finally {
      await rotateQueue.close();
      connection.disconnect();
    }
    const credential = await runtime.credential("cred-0");
    const lock = await pollUntil(
      () => acquireRotationLock(runtime.depsFor(credential), "cred-0").catch(() => undefined),
      10_000,
      "the rotation lock free while parked",
    );
    await lock.release();
    assert.deepEqual(bound(), [world.credentials[0]!.fingerprint], "nothing bound by certrotor");
    assert.deepEqual(
      (await runtime.episodes.list("cred-0")).map((e) => e.kind),
      ["manual-task"],
      "the task is alerted, once per episode",
    );

    const report = await scan({ ...runtime, credentials: [credential] });
    assert.deepEqual(
      report.entries[0]?.tasks?.map((t) => [t.id, t.kind]),
      [[bind.id, "bind-certificate"]],
      "scan shows the open task",
    );
    assert.equal(report.counts.openTasks, 1);

    await person("bind", bind);
    const unbind = await openTask("unbind-certificate");
    assert.equal(unbind.fingerprint, world.credentials[0]!.fingerprint, "the old certificate is to go");
    const bindDone = await runtime.tasks.get(bind.id);
    assert.equal(bindDone?.status, "done");
    assert.equal(bindDone?.closedBy, "certrotor");
    const promoted = await pollUntil(
      async () => {
        const record = await runtime.journal.latest("cred-0");
        return record?.status === "retire-due" ? record : undefined;
      },
      10_000,
      "the rotation promoted, waiting on the unbind task",
    );
    assert.equal(promoted.attempts, 1, "parking spent no attempt");
    const current = await runtime.stores.get("main")!.readCurrent(credential.ref);
    assert.equal(current.material.fingerprint, bind.fingerprint, "the new certificate is current");
    const previous = await runtime.stores.get("main")!.readPrevious(credential.ref);
    assert.equal(
      bind.deadline,
      new Date(
        inspectCertificate(previous!.material.certPem).notAfter.getTime() - runtime.config.tasks.leadTime,
      ).toISOString(),
      "deadline: the old certificate's expiry minus tasks.leadTime",
    );

    await person("unbind", unbind);
    const finished = await pollUntil(
      async () => {
        const record = await runtime.journal.latest("cred-0");
        return record?.status === "succeeded" ? record : undefined;
      },
      30_000,
      `the rotation finished (worker output: ${worker.output()})`,
    );
    assert.equal(finished.rotationId, parked.rotationId);
    assert.equal((await runtime.tasks.get(unbind.id))?.status, "done");
    assert.deepEqual(await runtime.tasks.list({ status: "open" }), []);
    assert.deepEqual(bound(), [bind.fingerprint]);
    const deps = runtime.depsFor(credential);
    assert.deepEqual(
      await invariantViolations({ store: deps.store, bank: deps.bank, ref: credential.ref, clientId, bound }),
      [],
    );
    const actions = (await runtime.journal.auditTrail("cred-0")).map((e) => e.action).reverse();
    assert.deepEqual(actions, [
      "issued",
      "staged",
      "task-opened",
      "bound",
      "verified",
      "promoted",
      "retire-scheduled",
      "unbound",
    ]);
  });
});
