/**
 * The AWS store on an eventually consistent Secrets Manager (the emulator's stale-read mode: for a window
 * after a write, reads see the secret as it was before that write): it reads its own label changes back
 * (a pending it just staged is pending, a promote it just made is current), a refusal is confirmed by a
 * fresh read before it is believed (a lost answer whose settle-read is stale is no CAS_CONFLICT), and a
 * whole rotation run by the saga ends promoted, with no CAS_CONFLICT reaching it.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/observability/logger.js";
import { runRotation } from "../../src/rotation/run.js";
import { createRuntime } from "../../src/runtime.js";
import type { CredentialRef, Material } from "../../src/stores/types.js";
import { aCa, type PkiMaterial } from "../fixtures/pki.js";
import { aWorld } from "../fixtures/world.js";
import { anAwsMaterial, type AwsFixture, startAwsFixture } from "./aws-fixture.js";

const STALE_MS = 250;

describe("AWS store under stale reads", () => {
  let f: AwsFixture;
  let ca: PkiMaterial;
  const run = randomBytes(3).toString("hex");
  let n = 0;
  before(async () => {
    ca = await aCa();
    // Every read within 250 ms of a write to its secret is stale; the store waits up to 2 s for agreement.
    f = await startAwsFixture({ faults: { staleReadMs: STALE_MS }, consistencyWindow: 2_000 });
  });
  after(async () => {
    await f.store.close();
    await f.cleanup();
  });

  const aMaterial = (rotationId?: string): Promise<Material> => anAwsMaterial(ca, rotationId);
  const seeded = async (): Promise<{ ref: CredentialRef; m1: Material; v1: string }> => {
    const ref = { credentialId: `s${++n}`, path: `stale-${run}/s${n}` };
    const m1 = await aMaterial();
    await f.seed(ref, m1); // as an operator would: settled before certrotor reads
    return { ref, m1, v1: (await f.store.readCurrent(ref)).version };
  };

  it("reads back what it just staged and promoted, though every read right after a write is stale", async () => {
    const { ref, m1, v1 } = await seeded();
    const rotationId = randomUUID();
    const m2 = await aMaterial(rotationId);
    await f.store.writePending(ref, rotationId, m2);
    assert.deepEqual((await f.store.readPending(ref))?.material, m2, "not the stale 'nothing pending'");
    const promoted = await f.store.promote(ref, rotationId, v1);
    assert.deepEqual(promoted.material, m2);
    assert.deepEqual((await f.store.readCurrent(ref)).material, m2);
    assert.deepEqual((await f.store.readPrevious(ref))?.material, m1);
    assert.equal(await f.store.readPending(ref), null);
    await f.store.dropPending(ref);
  });

  it("settles a label move whose answer was lost with a fresh read, not the stale one: no CAS_CONFLICT", async () => {
    const { ref, v1 } = await seeded();
    const rotationId = randomUUID();
    const m2 = await aMaterial(rotationId);
    await f.store.writePending(ref, rotationId, m2);
    await f.emulator.settled(ref.path);
    // The first UpdateSecretVersionStage lands but its answer is lost; the SDK's retry is refused (AWSCURRENT
    // is no longer on v1) and the read that settles it is stale (it still shows v1 current).
    f.emulator.setFaults({
      staleReadMs: STALE_MS,
      dropAfterRate: 1,
      maxConsecutive: 1,
      operations: ["UpdateSecretVersionStage"],
    });
    const from = f.emulator.logs.length;
    try {
      assert.deepEqual((await f.store.promote(ref, rotationId, v1)).material, m2);
    } finally {
      f.emulator.setFaults({ staleReadMs: STALE_MS });
    }
    const calls = f.emulator.logs.slice(from).filter((line) => line.includes("UpdateSecretVersionStage"));
    assert.equal(calls[0], "POST secretsmanager.UpdateSecretVersionStage dropped after commit (fault)");
    assert.equal(calls[1], "POST secretsmanager.UpdateSecretVersionStage 400 InvalidParameterException");
    assert.deepEqual((await f.store.readCurrent(ref)).material, m2);
  });

  it("still reports a real CAS_CONFLICT once a fresh read confirms it", async () => {
    const { ref, v1 } = await seeded();
    const rotationId = randomUUID();
    await f.store.writePending(ref, rotationId, await aMaterial(rotationId));
    await f.seed(ref, await aMaterial()); // someone else wrote current meanwhile
    await assert.rejects(f.store.promote(ref, rotationId, v1), { code: "CAS_CONFLICT" });
    assert.equal((await f.store.readPending(ref))?.rotationId, rotationId, "nothing changed");
  });
});

describe("a rotation run by the saga on an eventually consistent Secrets Manager", () => {
  it("ends promoted and working, with no CAS_CONFLICT, while every read within 250 ms of a write is stale", async () => {
    const world = await aWorld({ store: "aws", issuer: "local-ca" });
    try {
      world.aws!.setFaults({ staleReadMs: STALE_MS });
      const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
      try {
        const credential = await runtime.credential("cred-0");
        const deps = runtime.depsFor(credential);
        const result = await runRotation(deps, credential, { trigger: "inline", force: true });
        assert.equal(result.status, "succeeded", JSON.stringify(result)); // grace period 0: retired too
        await world.aws!.settled();
        const current = await deps.store.readCurrent(credential.ref);
        assert.notEqual(current.material.fingerprint, world.credentials[0]!.fingerprint);
        assert.equal(await deps.store.readPending(credential.ref), null);
      } finally {
        await runtime.close();
      }
    } finally {
      await world.stop();
    }
  });
});
