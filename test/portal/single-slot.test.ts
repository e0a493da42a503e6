/**
 * A single-slot bank (maxSlots: 1; the sandbox credential takes one active certificate): the rotation
 * is a cut-over inside the maintenance window — unbind old, bind new, verify, promote back to back —
 * announced before and after, its outage measured in the journal; outside the window it waits. A verify
 * that fails rebinds the old certificate and rolls back, ending the outage.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { requireSlots } from "../../src/bank/capabilities.js";
import { createLogger } from "../../src/observability/logger.js";
import type { RotationEvent } from "../../src/rotation/context.js";
import { runRotation } from "../../src/rotation/run.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";

describe("cut-over rotation at a single-slot bank", () => {
  let world: TestWorld;
  let runtime: Runtime;
  const outOfWindow = `* ${(new Date().getUTCHours() + 12) % 24} * * *`;
  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", bank: "single-slot", credentials: 3 });
    // cred-2 may rotate only in a window twelve hours away
    (world.config.credentials[2] as { renewal?: object }).renewal = {
      window: { cron: outOfWindow, timezone: "UTC" },
    };
    runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
  });
  after(async () => {
    await runtime?.close();
    await world?.stop();
  });

  const bound = (i: number) =>
    world.sandbox.boundCertificates(world.credentials[i]!.clientId).map((b) => b.certificate.fingerprint);

  it("unbinds old, binds new, verifies and promotes, announcing it and recording the outage", async () => {
    const credential = await runtime.credential("cred-0");
    const events: Array<Extract<RotationEvent, { kind: "cut-over" }>> = [];
    const boundAtStart: string[][] = [];
    const base = runtime.depsFor(credential);
    const deps = {
      ...base,
      observers: [
        (event: RotationEvent) => {
          if (event.kind !== "cut-over") return;
          events.push(event);
          if (event.phase === "started") boundAtStart.push(bound(0));
        },
      ],
    };
    const result = await runRotation(deps, credential, { trigger: "inline", force: true });
    assert.equal(result.status, "succeeded", JSON.stringify(result));
    const current = await deps.store.readCurrent(credential.ref);
    assert.deepEqual(bound(0), [current.material.fingerprint], "only the new certificate is bound");
    assert.deepEqual(
      boundAtStart,
      [[world.credentials[0]!.fingerprint]],
      "announced before the old one went",
    );
    assert.deepEqual(
      events.map((e) => e.phase),
      ["started", "ended"],
    );
    const record = result.status === "succeeded" ? result.record : undefined;
    assert.ok(record?.outageStartedAt && record.outageEndedAt, "the outage is recorded");
    const ended = events[1] as Extract<RotationEvent, { kind: "cut-over" }>;
    assert.equal(ended.outageMs, Date.parse(record.outageEndedAt) - Date.parse(record.outageStartedAt));
    const trail = await runtime.journal.auditTrail("cred-0");
    assert.equal(trail.find((e) => e.action === "cut-over")?.details?.outageMs, ended.outageMs);
    assert.deepEqual(
      await invariantViolations({
        store: deps.store,
        bank: deps.bank,
        ref: credential.ref,
        clientId: world.credentials[0]!.clientId,
      }),
      [],
    );
  });

  it("rebinds the old certificate and rolls back when verify fails", async () => {
    const credential = await runtime.credential("cred-1");
    const { clientId, fingerprint: oldFingerprint } = world.credentials[1]!;
    const deps = {
      ...runtime.depsFor(credential),
      hooks: {
        at(point: string) {
          // the new cert is bound (the old one unbound): the bank now refuses this host
          if (point === "verify:start") world.sandbox.setAllowedIps(clientId, ["10.9.9.9/32"]);
        },
      },
    };
    const result = await runRotation(deps, credential, { trigger: "inline", force: true });
    world.sandbox.setAllowedIps(clientId, ["127.0.0.0/8", "::1"]);
    assert.equal(result.status, "failed");
    assert.equal(result.status === "failed" && result.error.code, "IP_NOT_ALLOWED");
    assert.deepEqual(bound(1), [oldFingerprint], "the old certificate is bound again");
    const current = await deps.store.readCurrent(credential.ref);
    assert.equal(current.material.fingerprint, oldFingerprint);
    const record = await runtime.journal.latest("cred-1");
    assert.equal(record?.status, "rolled-back");
    assert.ok(record?.outageStartedAt && record.outageEndedAt);
    const rolledBack = (await runtime.journal.auditTrail("cred-1")).find((e) => e.action === "rolled-back");
    assert.equal(rolledBack?.details?.rebound, oldFingerprint);
    assert.deepEqual(
      await invariantViolations({ store: deps.store, bank: deps.bank, ref: credential.ref, clientId }),
      [],
    );
  });

  it("waits for the maintenance window: nothing is made or unbound outside it", async () => {
    const credential = await runtime.credential("cred-2");
    const deps = runtime.depsFor(credential);
    const result = await runRotation(deps, credential, { trigger: "inline", force: true });
    assert.equal(result.status, "not-due");
    assert.match(result.status === "not-due" ? result.message : "", /waits for its maintenance window/);
    assert.deepEqual(bound(2), [world.credentials[2]!.fingerprint]);
    assert.equal(await deps.store.readPending(credential.ref), null);
    assert.equal((await requireSlots(deps.bank).listSlots(world.credentials[2]!.clientId)).length, 1);
  });
});
