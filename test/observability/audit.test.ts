import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AuditEvent } from "../../src/journal/types.js";
import { createLogger } from "../../src/observability/logger.js";
import { runRotationAttempt } from "../../src/rotation/saga.js";
import { createRuntime } from "../../src/runtime.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { certrotor } from "../fixtures/cli.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";

const LOOPBACK = ["127.0.0.0/8", "::1"];

describe("the audit trail shown by `certrotor status <credential> --history`", () => {
  let world: TestWorld;
  let config: string;
  /** Oldest first, as `status --history --json` printed them (it prints newest first). */
  const trail = async (id: string): Promise<AuditEvent[]> => {
    const run = await certrotor("status", id, "--history", "--json", "--config", config);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { credentials: Array<{ history: AuditEvent[] }> };
    return [...report.credentials[0]!.history].reverse();
  };

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 2 });
    config = join(world.dir, "certrotor.json");
    await writeFile(config, JSON.stringify(world.config));
    const [cred0, cred1] = world.credentials;
    // cred-0: the bank refuses the token call from this IP (verify fails, rolled back), then succeeds
    world.sandbox.setAllowedIps(cred0!.clientId, ["203.0.113.0/24"]);
    const refused = await certrotor("rotate", "cred-0", "--inline", "--config", config);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    world.sandbox.setAllowedIps(cred0!.clientId, LOOPBACK);
    const rotated = await certrotor("rotate", "cred-0", "--inline", "--config", config);
    assert.equal(rotated.code, 0, rotated.stdout + rotated.stderr);
    // cred-1: a certificate certrotor does not manage holds the second slot (refused in plan)
    world.sandbox.bindCertificate(cred1!.clientId, (await aClientCert({ ca: await aCa() })).certPem);
    const full = await certrotor("rotate", "cred-1", "--inline", "--config", config);
    assert.notEqual(full.code, 0);
  });
  after(() => world.stop());

  it("records each action of a rolled-back and then a successful rotation, in order, with its actor", async () => {
    const events = await trail("cred-0");
    assert.deepEqual(
      events.map((e) => e.action),
      [
        ...["issued", "staged", "bound", "failed", "rolled-back"],
        ...["issued", "staged", "bound", "verified", "promoted", "retire-scheduled", "unbound"],
      ],
    );
    assert.ok(events.every((e) => e.actor === "on-demand" && e.credentialId === "cred-0"));
    const [first, second] = [events.slice(0, 5), events.slice(5)];
    assert.equal(new Set(first.map((e) => e.rotationId)).size, 1);
    assert.equal(new Set(second.map((e) => e.rotationId)).size, 1);
    assert.notEqual(first[0]!.rotationId, second[0]!.rotationId);

    const [, , bound, failed, rolledBack] = first;
    assert.deepEqual(failed!.details, { errorCode: "IP_NOT_ALLOWED", step: "verify" });
    assert.deepEqual(rolledBack!.details, {
      errorCode: "IP_NOT_ALLOWED",
      unbound: bound!.details!.fingerprint,
      droppedPending: true,
    });
    const original = world.credentials[0]!.fingerprint;
    const promoted = second.find((e) => e.action === "promoted")!;
    assert.equal(promoted.details!.previous, original);
    assert.equal(
      promoted.details!.fingerprint,
      second.find((e) => e.action === "bound")!.details!.fingerprint,
    );
    assert.deepEqual(second.at(-1)!.details, { fingerprint: original }, "the old certificate was unbound");
  });

  it("records a rotation refused before it began as failed, with the code and the step", async () => {
    const events = await trail("cred-1");
    assert.equal(events.length, 1);
    assert.equal(events[0]!.action, "failed");
    assert.equal(events[0]!.actor, "on-demand");
    assert.match(events[0]!.rotationId ?? "", /^rot_[0-9a-f]{32}$/);
    assert.deepEqual(events[0]!.details, { errorCode: "SLOTS_FULL", step: "plan" });
  });

  it("prints the trail as one line per action in the text output", async () => {
    const run = await certrotor("status", "cred-0", "--history", "--config", config);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split("\n").filter((line) => line.trimStart().startsWith("audit"));
    assert.equal(lines.length, 12);
    assert.match(
      run.stdout,
      /^ {2}audit {6}\S+Z {2}rolled-back {6}by on-demand {2}rot_[0-9a-f]{32} errorCode=IP_NOT_ALLOWED unbound=[0-9a-f]{64} droppedPending=true$/m,
    );
  });
});

describe("the audit trail of a rotation interrupted right after promote", () => {
  it("records the promote when the rotation resumes, once", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca" });
    const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    try {
      const credential = await runtime.credential("cred-0");
      // the process dies between promote's effect and its audit event
      const crash = {
        at(point: string) {
          if (point === "promote:effect") throw new Error("killed");
        },
      };
      const deps = runtime.depsFor(credential);
      const options = { rotationId: "rot_resumed", trigger: "schedule" as const };
      await assert.rejects(runRotationAttempt({ ...deps, hooks: crash }, credential, options));
      const current = await deps.store.readCurrent(credential.ref);
      assert.equal(current.material.rotationId, "rot_resumed", "promote took effect");
      assert.ok(!(await deps.journal.auditTrail("cred-0")).some((e) => e.action === "promoted"));

      assert.equal((await runRotationAttempt(deps, credential, options)).status, "succeeded");
      const actions = (await deps.journal.auditTrail("cred-0")).reverse().map((e) => e.action);
      assert.deepEqual(actions.slice(-3), ["promoted", "retire-scheduled", "unbound"]);
      await runRotationAttempt(deps, credential, options); // a redundant retry of the same rotation
      const promoted = (await deps.journal.auditTrail("cred-0")).filter((e) => e.action === "promoted");
      assert.equal(promoted.length, 1);
      assert.deepEqual(promoted[0]!.details, {
        fingerprint: current.material.fingerprint,
        previous: world.credentials[0]!.fingerprint,
      });
    } finally {
      await runtime.close();
      await world.stop();
    }
  });
});

describe("the audit trail of a rotation retried after a crash", () => {
  it("records each step once: the redone steps found their work done and add nothing", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca" });
    const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    try {
      const credential = await runtime.credential("cred-0");
      const deps = runtime.depsFor(credential);
      const options = { rotationId: "rot_retried", trigger: "on-demand" as const };
      // the process dies right after the new cert was bound at the bank, before its audit event
      const crash = {
        at(point: string) {
          if (point === "register:effect") throw new Error("killed");
        },
      };
      await assert.rejects(runRotationAttempt({ ...deps, hooks: crash }, credential, options));
      assert.equal((await runRotationAttempt(deps, credential, options)).status, "succeeded");
      const events = (await deps.journal.auditTrail("cred-0"))
        .reverse()
        .filter((e) => e.rotationId === "rot_retried");
      assert.deepEqual(
        events.map((e) => e.action),
        ["issued", "staged", "bound", "verified", "promoted", "retire-scheduled", "unbound"],
      );
      const current = (await deps.store.readCurrent(credential.ref)).material;
      for (const action of ["issued", "staged", "bound", "verified"])
        assert.equal(
          events.find((e) => e.action === action)!.details?.fingerprint,
          current.fingerprint,
          action,
        );
    } finally {
      await runtime.close();
      await world.stop();
    }
  });
});
