import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../src/observability/logger.js";
import { runRotation } from "../../src/rotation/run.js";
import { newRotationId } from "../../src/rotation/saga.js";
import { listCredentials } from "../../src/rotation/credentials.js";
import { scan } from "../../src/rotation/scan.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { isCertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, days } from "../fixtures/pki.js";
import { aWorld, worldDiscovery } from "../fixtures/world.js";

const HOUR = 3_600_000;
const silent = createLogger({ level: "silent" });

function scanOf(runtime: Runtime, now = new Date()) {
  return scan({
    config: runtime.config,
    stores: runtime.stores,
    banks: runtime.banks,
    journal: runtime.journal,
    now: () => now,
  });
}

describe("scan", () => {
  it("reports decisions and every kind of drift, with exit 0 / 1 / 2", async () => {
    const world = await aWorld({
      store: "file",
      issuer: "local-ca",
      credentials: 5,
      expiresInMs: (i) => (i === 0 ? days(3) : days(80)),
    });
    const runtime = await createRuntime(world.config, { logger: silent });
    try {
      const byId = async () =>
        new Map((await scanOf(runtime)).entries.map((e) => [e.credentialId, e] as const));
      // cred-0 due; the others fine
      let report = await scanOf(runtime);
      assert.equal(report.exitCode, 1);
      assert.equal(report.entries.find((e) => e.credentialId === "cred-0")?.decision, "due-now");
      assert.equal(report.entries.find((e) => e.credentialId === "cred-1")?.decision, "ok");
      assert.equal(report.entries.find((e) => e.credentialId === "cred-1")?.boundSlots, 1);

      // orphan: a cert bound at the bank that the store does not hold
      const foreign = await aClientCert({ ca: await aCa() });
      world.sandbox.bindCertificate(world.credentials[1]!.clientId, foreign.certPem);
      // unregistered: the current cert is not bound
      const cred2 = runtime.depsFor(await runtime.credential("cred-2"));
      await requireSlots(cred2.bank).unbind(
        world.credentials[2]!.clientId,
        world.credentials[2]!.fingerprint,
      );
      // leftover pending: staged material with no rotation running
      const cred3 = await runtime.credential("cred-3");
      const deps3 = runtime.depsFor(cred3);
      const current3 = await deps3.store.readCurrent(cred3.ref);
      await deps3.store.writePending(cred3.ref, newRotationId(), {
        ...current3.material,
        rotationId: "leftover",
      });
      // stuck: a rotation in one step for longer than alerts.stuckAfter
      const longAgo = new Date(Date.now() - 2 * HOUR).toISOString();
      await runtime.journal.begin({
        rotationId: newRotationId(),
        credentialId: "cred-4",
        trigger: "schedule",
        startedAt: longAgo,
        updatedAt: longAgo,
        step: "register",
        stepStartedAt: longAgo,
        status: "running",
        attempts: 1,
      });

      const entries = await byId();
      assert.deepEqual(
        entries.get("cred-1")?.drift.map((d) => d.kind),
        ["orphan"],
      );
      assert.equal(entries.get("cred-1")?.drift[0]?.fingerprint, foreign.fingerprint);
      assert.deepEqual(
        entries.get("cred-2")?.drift.map((d) => d.kind),
        ["unregistered"],
      );
      assert.equal(entries.get("cred-2")?.decision, "broken");
      assert.deepEqual(
        entries.get("cred-3")?.drift.map((d) => d.kind),
        ["leftover-pending"],
      );
      assert.deepEqual(
        entries.get("cred-4")?.drift.map((d) => d.kind),
        ["stuck"],
      );
      report = await scanOf(runtime);
      assert.equal(report.exitCode, 2);
      assert.equal(report.counts.drift, 4);
    } finally {
      await runtime.close();
      await world.stop();
    }
  });

  it("discovers credentials by store prefix as well as the configured ones", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 3 });
    const config = {
      ...world.config,
      credentials: world.config.credentials.slice(0, 1),
      discovery: [worldDiscovery()],
    };
    const runtime = await createRuntime(config, { logger: silent });
    try {
      const report = await scanOf(runtime);
      assert.deepEqual(report.entries.map((e) => e.credentialId).sort(), [
        "certrotor-cred-1",
        "certrotor-cred-2",
        "cred-0",
      ]);
      assert.ok(report.entries.every((e) => e.decision === "due-now" && e.boundSlots === 1));
    } finally {
      await runtime.close();
      await world.stop();
    }
  });
});

describe("scan with the listing's pending hints", () => {
  for (const store of ["vault", "aws"] as const) {
    it(`${store}: reads pending only where the listing shows one or a rotation runs, and still reports leftovers`, async () => {
      const world = await aWorld({ store, issuer: "local-ca", credentials: 4 });
      const config = { ...world.config, credentials: [], discovery: [worldDiscovery()] };
      const runtime = await createRuntime(config, { logger: silent });
      try {
        const stage = async (id: string, rotationId: string) => {
          const credential = await runtime.credential(id);
          const target = runtime.depsFor(credential).store;
          const current = await target.readCurrent(credential.ref);
          await target.writePending(credential.ref, rotationId, { ...current.material, rotationId });
        };
        // a leftover the listing sees
        await stage("certrotor-cred-0", "leftover-0");
        const listed = await listCredentials(runtime.config, runtime.stores);
        assert.deepEqual(listed.map((c) => [c.id, c.listed?.pending]).sort(), [
          ["certrotor-cred-0", true],
          ["certrotor-cred-1", false],
          ["certrotor-cred-2", false],
          ["certrotor-cred-3", false],
        ]);
        // after the listing: a rotation starts on cred-1 and a pending of another rotation shows up there
        const since = new Date().toISOString();
        await runtime.journal.begin({
          rotationId: newRotationId(),
          credentialId: "certrotor-cred-1",
          trigger: "schedule",
          startedAt: since,
          updatedAt: since,
          step: "stage",
          stepStartedAt: since,
          status: "running",
          attempts: 1,
        });
        await stage("certrotor-cred-1", "leftover-1");
        const before = world.vault?.counters.requests;
        const report = await scan({ ...runtime, credentials: listed, now: () => new Date(), skipBank: true });
        const leftovers = report.entries
          .filter((e) => e.drift.some((d) => d.kind === "leftover-pending"))
          .map((e) => e.credentialId)
          .sort();
        // cred-1's pending is its running rotation's business (drift of a running rotation waits for the next scan)
        assert.deepEqual(leftovers, ["certrotor-cred-0"]);
        if (world.vault && before !== undefined) {
          // 4 current reads, 2 pending reads (cred-0 listed with one, cred-1 rotating), no listing
          assert.equal(world.vault.counters.requests - before, 6);
        }
      } finally {
        await runtime.close();
        await world.stop();
      }
    });
  }
});

describe("the 2-slot rule during rotation", () => {
  it("never frees the slot of the previous certificate while it is inside its grace period, not even with unbindStaleOwnCerts", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", renewal: { gracePeriod: HOUR } });
    const runtime = await createRuntime(world.config, { logger: silent });
    try {
      const credential = await runtime.credential("cred-0");
      const deps = runtime.depsFor(credential);
      const clientId = world.credentials[0]!.clientId;
      const first = await runRotation(deps, credential, { trigger: "inline", force: true });
      assert.equal(first.status, "retire-due");
      const bound = (await requireSlots(deps.bank).listSlots(clientId)).map((s) => s.fingerprint).sort();
      assert.equal(bound.length, 2);

      const lenient = { ...credential, policy: { ...credential.policy, unbindStaleOwnCerts: true } };
      for (const asked of [credential, lenient]) {
        await assert.rejects(
          runRotation(deps, asked, { trigger: "inline", force: true }),
          (error: unknown) => {
            assert.ok(isCertrotorError(error, "SLOTS_FULL"));
            assert.match(error.message, /grace period/);
            assert.doesNotMatch(
              error.hint ?? "",
              /unbindStaleOwnCerts|--force/,
              "the hint sends nobody to force it",
            );
            assert.match(error.hint ?? "", /retire-due/);
            return true;
          },
        );
        assert.deepEqual(
          (await requireSlots(deps.bank).listSlots(clientId)).map((s) => s.fingerprint).sort(),
          bound,
        );
      }
    } finally {
      await runtime.close();
      await world.stop();
    }
  });

  it("stops with SLOTS_FULL when a stale certificate certrotor issued holds a slot, unless stale own certs may be unbound", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca" });
    const runtime = await createRuntime(world.config, { logger: silent });
    try {
      const credential = await runtime.credential("cred-0");
      const deps = runtime.depsFor(credential);
      const clientId = world.credentials[0]!.clientId;
      const original = (await deps.store.readCurrent(credential.ref)).material.certPem;
      assert.equal(
        (await runRotation(deps, credential, { trigger: "inline", force: true })).status,
        "succeeded",
      );
      // the replaced certificate comes back into a slot (bound again by hand): stale, certrotor's own
      world.sandbox.bindCertificate(clientId, original);
      const bound = (await requireSlots(deps.bank).listSlots(clientId)).map((s) => s.fingerprint).sort();
      assert.equal(bound.length, 2);

      await assert.rejects(
        runRotation(deps, credential, { trigger: "inline", force: true }),
        (error: unknown) => {
          assert.ok(isCertrotorError(error, "SLOTS_FULL"));
          assert.match(error.hint ?? "", /unbindStaleOwnCerts/);
          return true;
        },
      );
      assert.deepEqual(
        (await requireSlots(deps.bank).listSlots(clientId)).map((s) => s.fingerprint).sort(),
        bound,
      );

      const lenient = { ...credential, policy: { ...credential.policy, unbindStaleOwnCerts: true } };
      const second = await runRotation(deps, lenient, { trigger: "inline", force: true });
      assert.equal(second.status, "succeeded");
      const current = await deps.store.readCurrent(credential.ref);
      assert.deepEqual(
        (await requireSlots(deps.bank).listSlots(clientId)).map((s) => s.fingerprint),
        [current.material.fingerprint],
      );
    } finally {
      await runtime.close();
      await world.stop();
    }
  });
});
