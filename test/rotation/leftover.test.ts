import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCertrotorError } from "../../src/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { runRotationAttempt } from "../../src/rotation/saga.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";

const silent = createLogger({ level: "silent" });

/** A rotation stopped right after binding its cert, whose job is then lost: nobody resumes it. */
async function abandonAfterRegister(runtime: Runtime, credentialId: string): Promise<string> {
  const credential = await runtime.credential(credentialId);
  const lost = new Error("worker lost after register");
  const deps = {
    ...runtime.depsFor(credential),
    hooks: {
      at(point: string) {
        if (point === "register:effect") throw lost;
      },
    },
  };
  const rotationId = "rot_abandoned";
  await assert.rejects(
    runRotationAttempt(deps, credential, { rotationId, trigger: "schedule", force: true }),
  );
  return rotationId;
}

async function view(runtime: Runtime, world: TestWorld) {
  const credential = await runtime.credential("cred-0");
  const deps = runtime.depsFor(credential);
  return {
    deps,
    credential,
    current: (await deps.store.readCurrent(credential.ref)).material,
    pending: await deps.store.readPending(credential.ref),
    bound: (await requireSlots(deps.bank).listSlots(world.credentials[0]!.clientId)).map(
      (s) => s.fingerprint,
    ),
  };
}

describe("a rotation that finds the leftover of an unfinished one", () => {
  it("unbinds the leftover's cert, drops its key, closes its record, then rotates", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    const runtime = await createRuntime(world.config, { logger: silent });
    try {
      const leftoverId = await abandonAfterRegister(runtime, "cred-0");
      const before = await view(runtime, world);
      const leftoverFingerprint = before.pending!.material.fingerprint;
      assert.deepEqual(before.bound.sort(), [before.current.fingerprint, leftoverFingerprint].sort());

      const outcome = await runRotationAttempt(before.deps, before.credential, {
        trigger: "operator",
        force: true,
      });
      assert.equal(outcome.status, "succeeded");
      const after = await view(runtime, world);
      assert.equal(after.current.rotationId, outcome.record.rotationId);
      assert.deepEqual(
        after.bound,
        [after.current.fingerprint],
        "neither the old nor the leftover cert is bound",
      );
      assert.equal(after.pending, null);
      const leftover = await runtime.journal.get(leftoverId);
      assert.equal(leftover?.status, "rolled-back");
      assert.equal(leftover?.errorCode, "ROTATION_FAILED");
      const rolledBack = (await runtime.journal.auditTrail("cred-0")).find(
        (e) => e.rotationId === leftoverId && e.action === "rolled-back",
      );
      assert.equal(rolledBack?.details?.unbound, leftoverFingerprint);
      assert.deepEqual(
        await invariantViolations({
          ...after.deps,
          ref: after.credential.ref,
          clientId: world.credentials[0]!.clientId,
        }),
        [],
      );
    } finally {
      await runtime.close();
      await world.stop();
    }
  });

  it("keeps the leftover's key while the bank cannot unbind its cert, so no bound cert is without its key", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    const config = { ...world.config, banks: { sandbox: { ...world.config.banks.sandbox!, retries: 0 } } };
    const runtime = await createRuntime(config, { logger: silent });
    try {
      const leftoverId = await abandonAfterRegister(runtime, "cred-0");
      const before = await view(runtime, world);
      world.sandbox.setFaults({ admin: { failRate: 1, failStatus: 503 } });
      await assert.rejects(
        runRotationAttempt(before.deps, before.credential, { trigger: "operator", force: true }),
        (error: unknown) => isCertrotorError(error, "BANK_UNAVAILABLE"),
      );
      world.sandbox.setFaults({});
      const after = await view(runtime, world);
      assert.equal(after.pending?.rotationId, leftoverId, "the leftover's key is still retrievable");
      assert.deepEqual(after.bound.sort(), before.bound.sort());
      assert.deepEqual(
        await invariantViolations({
          ...after.deps,
          ref: after.credential.ref,
          clientId: world.credentials[0]!.clientId,
        }),
        [],
      );
    } finally {
      await runtime.close();
      await world.stop();
    }
  });
});

describe("a rotation resumed after its promote was cut short", () => {
  it("finishes the promote: the pending copy Vault still holds is cleared, and the rotation completes", async () => {
    const world = await aWorld({ store: "vault", issuer: "local-ca", credentials: 1 });
    const runtime = await createRuntime(world.config, { logger: silent });
    try {
      const credential = await runtime.credential("cred-0");
      const deps = runtime.depsFor(credential);
      const rotationId = "rot_cut_promote";
      // current is written, then every call that would delete the pending path fails
      world.vault!.setFaults({ failRate: 1, pathPrefix: `secret/metadata/${credential.ref.path}.pending` });
      await assert.rejects(
        runRotationAttempt(deps, credential, { rotationId, trigger: "operator", force: true }),
        (error: unknown) => isCertrotorError(error, "STORE_UNAVAILABLE"),
      );
      world.vault!.setFaults({});
      assert.equal((await deps.store.readCurrent(credential.ref)).material.rotationId, rotationId);
      assert.equal((await deps.store.readPending(credential.ref))?.rotationId, rotationId);

      const outcome = await runRotationAttempt(deps, credential, {
        rotationId,
        trigger: "operator",
        force: true,
      });
      assert.equal(outcome.status, "succeeded");
      assert.equal(await deps.store.readPending(credential.ref), null);
      assert.deepEqual(
        await invariantViolations({ ...deps, ref: credential.ref, clientId: world.credentials[0]!.clientId }),
        [],
      );
    } finally {
      await runtime.close();
      await world.stop();
    }
  });
});
