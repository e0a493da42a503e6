/**
 * registration: none (seed 002: the bank trusts the issuing CA): a credential at an oauth2-mtls bank
 * whose sandbox credential accepts any certificate of the institution's CA with its subject rotates end
 * to end with nothing bound or unbound, through `rotate --inline` (the real CLI, file state) and through
 * a worker (real Redis). register and retire are recorded as skipped; verify still proves the new
 * material with a token call.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { queueConfig, runCli, spawnWorker, stopWorker, writeConfig } from "../queue/helpers.js";

const silent = createLogger({ level: "silent" });

describe("rotation at a bank that trusts the issuing CA (registration: none)", () => {
  let world: TestWorld;
  let redis: RedisServer;
  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", bank: "trust-ca", credentials: 2 });
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
    await world?.stop();
  });

  /** The credential's current material, audit trail and invariants, read through a fresh runtime. */
  async function look(config: TestWorld["config"], index: number) {
    const runtime = await createRuntime(config, { logger: silent });
    try {
      const credential = await runtime.credential(`cred-${index}`);
      const deps = runtime.depsFor(credential);
      const current = await deps.store.readCurrent(credential.ref);
      const { clientId } = world.credentials[index]!;
      return {
        fingerprint: current.material.fingerprint,
        actions: (await runtime.journal.auditTrail(credential.id)).map((e) => e.action).reverse(),
        latest: await runtime.journal.latest(credential.id),
        violations: await invariantViolations({
          store: deps.store,
          bank: deps.bank,
          ref: credential.ref,
          clientId,
        }),
      };
    } finally {
      await runtime.close();
    }
  }

  it("rotates with rotate --inline: nothing bound or unbound, verify by token, the old cert no longer current", async () => {
    const configPath = await writeConfig(world.dir, world.config, "inline.json");
    const run = await runCli(["rotate", "cred-0", "--inline", "--config", configPath]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /succeeded: rotation rot_/);
    const seen = await look(world.config, 0);
    assert.notEqual(seen.fingerprint, world.credentials[0]!.fingerprint, "the old cert is no longer current");
    assert.equal(seen.latest?.status, "succeeded");
    assert.deepEqual(seen.actions, [
      "issued",
      "staged",
      "bind-skipped",
      "verified",
      "promoted",
      "retire-scheduled",
      "unbind-skipped",
    ]);
    assert.deepEqual(seen.violations, []);
    const { clientId } = world.credentials[0]!;
    assert.deepEqual(world.sandbox.boundCertificates(clientId), [], "nothing was bound at the bank");
    const verified = world.sandbox.logs.filter((e) => e.path === "/oauth/token" && e.status === 200);
    assert.ok(verified.length >= 1, "verify made a token call");
  });

  it("rotates through a worker on Redis the same way", async () => {
    const config = queueConfig(world.config, redis.url);
    const configPath = await writeConfig(world.dir, config, "queue.json");
    const worker = spawnWorker(configPath);
    try {
      await worker.ready;
      const run = await runCli(["rotate", "cred-1", "--wait", "--config", configPath], 60_000);
      assert.equal(run.code, 0, run.stdout + run.stderr + worker.output());
      const seen = await look(config, 1);
      assert.notEqual(seen.fingerprint, world.credentials[1]!.fingerprint);
      assert.equal(seen.latest?.status, "succeeded");
      assert.ok(seen.actions.includes("bind-skipped") && seen.actions.includes("unbind-skipped"));
      assert.ok(!seen.actions.includes("bound") && !seen.actions.includes("unbound"));
      assert.deepEqual(seen.violations, []);
    } finally {
      await stopWorker(worker);
    }
  });
});
