import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { inspectCertificate } from "../../src/crypto/index.js";
import { createDemoWorld, type DemoWorld } from "../../src/demo/world.js";
import { isCertrotorError } from "../../src/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { retireDue } from "../../src/rotation/retire-due.js";
import { runRotation } from "../../src/rotation/run.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { invariantViolations } from "../fixtures/invariants.js";

const HOUR = 3_600_000;

interface Setup {
  dir: string;
  world: DemoWorld;
  runtime: Runtime;
  logs: string[];
  clock: { now: Date };
}

async function setUp(renewal: Record<string, unknown> = {}): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), "certrotor-inline-"));
  const clock = { now: new Date() };
  const world = await createDemoWorld({ dir, keyType: "p256", renewal, now: () => clock.now });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  const runtime = await createRuntime(world.config, { logger, now: () => clock.now });
  return { dir, world, runtime, logs, clock };
}

async function tearDown(setup: Setup): Promise<void> {
  await setup.runtime.close();
  await setup.world.stop();
  await rm(setup.dir, { recursive: true, force: true });
}

async function worldState(setup: Setup) {
  const credential = await setup.runtime.credential(setup.world.credentialId);
  const deps = setup.runtime.depsFor(credential);
  const current = await deps.store.readCurrent(credential.ref);
  const bound = (await requireSlots(deps.bank).listSlots(setup.world.clientId))
    .map((s) => s.fingerprint)
    .sort();
  const pending = await deps.store.readPending(credential.ref);
  return { credential, deps, current, bound, pending };
}

describe("an inline rotation on the file store with the local CA", () => {
  let setup: Setup;
  before(async () => {
    setup = await setUp();
  });
  after(() => tearDown(setup));

  it("replaces the certificate, proves it at the bank, and leaves only the new one bound", async () => {
    const before = await worldState(setup);
    const result = await runRotation(before.deps, before.credential, { trigger: "inline", force: true });
    assert.equal(result.status, "succeeded");

    const afterwards = await worldState(setup);
    assert.notEqual(afterwards.current.material.fingerprint, before.current.material.fingerprint);
    assert.equal(afterwards.current.material.rotationId, result.rotationId);
    assert.deepEqual(afterwards.bound, [afterwards.current.material.fingerprint]);
    assert.equal(afterwards.pending, null);
    const previous = await afterwards.deps.store.readPrevious(afterwards.credential.ref);
    assert.equal(previous?.material.fingerprint, before.current.material.fingerprint);

    const info = inspectCertificate(afterwards.current.material.certPem);
    assert.ok(info.subjectDer.equals(inspectCertificate(before.current.material.certPem).subjectDer));
    assert.ok(info.notAfter > new Date(before.current.material.notAfter));
    assert.ok(afterwards.current.material.pfxBase64 && afterwards.current.material.pfxPassphrase);

    const token = await afterwards.deps.bank.requestToken(
      {
        pfx: Buffer.from(afterwards.current.material.pfxBase64, "base64"),
        passphrase: afterwards.current.material.pfxPassphrase,
      },
      { clientId: setup.world.clientId, clientSecret: afterwards.current.material.clientSecret! },
    );
    assert.equal(token.boundToCert, true);
    await assert.rejects(
      afterwards.deps.bank.requestToken(
        { certPem: before.current.material.certPem, keyPem: before.current.material.keyPem },
        { clientId: setup.world.clientId, clientSecret: before.current.material.clientSecret! },
      ),
      (error: unknown) => isCertrotorError(error, "INVALID_CLIENT_CERT"),
    );
    assert.deepEqual(
      await invariantViolations({
        ...afterwards.deps,
        ref: afterwards.credential.ref,
        clientId: setup.world.clientId,
      }),
      [],
    );

    const trail = await afterwards.deps.journal.auditTrail(setup.world.credentialId);
    assert.deepEqual(trail.map((e) => e.action).reverse(), [
      "issued",
      "staged",
      "bound",
      "verified",
      "promoted",
      "retire-scheduled",
      "unbound",
    ]);
  });

  it("writes no secret material to the logs or the journal", async () => {
    const { current, deps } = await worldState(setup);
    const secrets = [
      current.material.keyPem.split("\n")[1]!,
      current.material.pfxBase64!.slice(0, 64),
      current.material.pfxPassphrase!,
      current.material.clientSecret!,
    ];
    const journal = JSON.stringify([
      await deps.journal.history(setup.world.credentialId, 50),
      await deps.journal.auditTrail(setup.world.credentialId, 500),
    ]);
    for (const secret of secrets) {
      assert.ok(!setup.logs.join("").includes(secret), "a secret leaked into the logs");
      assert.ok(!journal.includes(secret), "a secret leaked into the journal");
    }
  });
});

describe("the retire step", () => {
  it("keeps the old certificate bound through the grace period and unbinds it once the period passed", async () => {
    const setup = await setUp({ gracePeriod: 2 * HOUR });
    try {
      const before = await worldState(setup);
      const result = await runRotation(before.deps, before.credential, { trigger: "inline", force: true });
      assert.equal(result.status, "retire-due");
      const during = await worldState(setup);
      assert.equal(during.bound.length, 2);
      assert.ok(during.bound.includes(before.current.material.fingerprint));
      assert.deepEqual(
        await invariantViolations({
          ...during.deps,
          ref: during.credential.ref,
          clientId: setup.world.clientId,
        }),
        [],
      );

      const early = await retireDue(setup.runtime.journal, setup.clock.now, async () => ({
        deps: during.deps,
        credential: during.credential,
      }));
      assert.deepEqual(early, [], "nothing is due before the grace period ends");

      setup.clock.now = new Date(setup.clock.now.getTime() + 2 * HOUR + 1_000);
      const swept = await retireDue(setup.runtime.journal, setup.clock.now, async () => ({
        deps: during.deps,
        credential: during.credential,
      }));
      assert.equal(swept.length, 1);
      assert.ok("outcome" in swept[0]! && swept[0].outcome.status === "succeeded");
      const afterwards = await worldState(setup);
      assert.deepEqual(afterwards.bound, [afterwards.current.material.fingerprint]);
    } finally {
      await tearDown(setup);
    }
  });

  it("keeps an old certificate that consumers still use and reports CONSUMERS_ON_OLD_CERT past the bound", async () => {
    const setup = await setUp({ gracePeriod: HOUR, idleBeforeRetire: 15 * 60_000, maxRetireWait: 2 * HOUR });
    try {
      const before = await worldState(setup);
      const result = await runRotation(before.deps, before.credential, { trigger: "inline", force: true });
      assert.equal(result.status, "retire-due");
      const old = { certPem: before.current.material.certPem, keyPem: before.current.material.keyPem };
      const creds = { clientId: setup.world.clientId, clientSecret: before.current.material.clientSecret! };
      const sweep = () =>
        retireDue(setup.runtime.journal, setup.clock.now, async () => ({
          deps: before.deps,
          credential: before.credential,
        }));

      // a consumer that never reloaded keeps using the old cert after the grace period
      setup.clock.now = new Date(setup.clock.now.getTime() + HOUR + 1_000);
      await before.deps.bank.requestToken(old, creds);
      const waiting = await sweep();
      assert.ok("outcome" in waiting[0]! && waiting[0].outcome.status === "retire-due");
      assert.equal((await worldState(setup)).bound.length, 2);

      setup.clock.now = new Date(setup.clock.now.getTime() + 2 * HOUR);
      await before.deps.bank.requestToken(old, creds);
      const gaveUp = await sweep();
      assert.ok("outcome" in gaveUp[0]! && gaveUp[0].outcome.status === "consumers-on-old-cert");
      assert.equal(gaveUp[0].outcome.record.errorCode, "CONSUMERS_ON_OLD_CERT");
      assert.ok(
        (await worldState(setup)).bound.includes(before.current.material.fingerprint),
        "the old cert stays bound",
      );
    } finally {
      await tearDown(setup);
    }
  });
});

describe("failures", () => {
  it("rolls back when verification fails: only the old cert bound and current, pending gone, code and hint recorded", async () => {
    const setup = await setUp();
    try {
      const before = await worldState(setup);
      const deps = {
        ...before.deps,
        hooks: {
          at(point: string) {
            if (point === "verify:start")
              setup.world.sandbox.setAllowedIps(setup.world.clientId, ["203.0.113.7"]);
          },
        },
      };
      const result = await runRotation(deps, before.credential, { trigger: "inline", force: true });
      setup.world.sandbox.setAllowedIps(setup.world.clientId, ["127.0.0.1", "::1"]);
      assert.equal(result.status, "failed");
      assert.ok(result.status === "failed" && result.error.code === "IP_NOT_ALLOWED");
      const afterwards = await worldState(setup);
      assert.equal(afterwards.current.material.fingerprint, before.current.material.fingerprint);
      assert.deepEqual(afterwards.bound, [before.current.material.fingerprint]);
      assert.equal(afterwards.pending, null);
      const record = await afterwards.deps.journal.get(result.rotationId);
      assert.equal(record?.status, "rolled-back");
      assert.equal(record?.errorCode, "IP_NOT_ALLOWED");
      assert.match(record?.hint ?? "", /allowlist/i);
      assert.deepEqual(
        await invariantViolations({
          ...afterwards.deps,
          ref: afterwards.credential.ref,
          clientId: setup.world.clientId,
        }),
        [],
      );
    } finally {
      await tearDown(setup);
    }
  });

  it("stops with SLOTS_FULL and changes nothing when a foreign certificate holds the second slot", async () => {
    const setup = await setUp();
    try {
      const before = await worldState(setup);
      const other = await aClientCert({ ca: await aCa() });
      setup.world.sandbox.bindCertificate(setup.world.clientId, other.certPem);
      const boundBefore = (await worldState(setup)).bound;
      await assert.rejects(
        runRotation(before.deps, before.credential, { trigger: "inline", force: true }),
        (error: unknown) => isCertrotorError(error, "SLOTS_FULL"),
      );
      const afterwards = await worldState(setup);
      assert.deepEqual(afterwards.bound, boundBefore);
      assert.equal(afterwards.current.version, before.current.version);
      assert.equal(afterwards.pending, null);
    } finally {
      await tearDown(setup);
    }
  });

  it("refuses a second rotation of the same credential while one runs: exactly one proceeds, the other is LOCKED", async () => {
    const setup = await setUp();
    try {
      const { deps, credential } = await worldState(setup);
      const results = await Promise.allSettled([
        runRotation(deps, credential, { trigger: "inline", force: true }),
        runRotation(deps, credential, { trigger: "inline", force: true }),
      ]);
      const fulfilled = results.filter((r) => r.status === "fulfilled");
      const rejected = results.filter((r) => r.status === "rejected");
      assert.equal(fulfilled.length, 1);
      assert.equal(rejected.length, 1);
      assert.ok(isCertrotorError((rejected[0] as PromiseRejectedResult).reason, "LOCKED"));
      assert.equal((await deps.journal.history(credential.id, 10)).length, 1, "the loser recorded nothing");
    } finally {
      await tearDown(setup);
    }
  });
});
