import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createDemoWorld } from "../../src/demo/world.js";
import { STEPS } from "../../src/journal/types.js";
import { createLogger } from "../../src/observability/logger.js";
import { runRotation } from "../../src/rotation/run.js";
import { newRotationId } from "../../src/rotation/saga.js";
import { createRuntime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { killAt } from "./crash-kill.js";

/** Every point a crash can hit: each step boundary and the middle of each step's external call. */
const POINTS = STEPS.filter((s) => s !== "done").flatMap((step) =>
  step === "plan" ? ["plan:start"] : [`${step}:start`, `${step}:effect`],
);

describe("crash safety of the rotation saga", { concurrency: 3 }, () => {
  for (const point of POINTS) {
    it(`converges after a kill at ${point}: invariants hold after the kill and after the rerun`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "certrotor-crash-"));
      const world = await createDemoWorld({ dir, keyType: "p256" });
      const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
      try {
        const configPath = join(dir, "config.json");
        await writeFile(configPath, JSON.stringify(world.config));
        const credential = await runtime.credential(world.credentialId);
        const deps = runtime.depsFor(credential);
        const before = (await deps.store.readCurrent(credential.ref)).material.fingerprint;
        const rotationId = newRotationId();

        const signal = await killAt(configPath, world.credentialId, rotationId, point);
        assert.equal(signal, "SIGKILL", `the child reached ${point}`);
        const check = { store: deps.store, bank: deps.bank, ref: credential.ref, clientId: world.clientId };
        assert.deepEqual(await invariantViolations(check), [], `after the kill at ${point}`);
        const current = await deps.store.readCurrent(credential.ref);
        if (current.material.fingerprint === before) {
          const bound = (await requireSlots(deps.bank).listSlots(world.clientId)).map((s) => s.fingerprint);
          assert.ok(bound.includes(before), "before promote the old cert stays bound (invariant 4)");
        }

        // the lock of the killed process is a file lock whose holder pid is dead: the rerun takes it over
        const result = await runRotation(deps, credential, { trigger: "inline", force: true });
        assert.equal(result.status, "succeeded", `rerun after ${point}`);
        // a kill before plan recorded anything leaves nothing to resume: the rerun is a new rotation
        const resumedId = point === "plan:start" ? result.rotationId : rotationId;
        assert.equal(result.rotationId, resumedId, "the rerun resumed the interrupted rotation");
        const after = await deps.store.readCurrent(credential.ref);
        assert.notEqual(after.material.fingerprint, before);
        assert.equal(after.material.rotationId, resumedId);
        assert.deepEqual(
          (await requireSlots(deps.bank).listSlots(world.clientId)).map((s) => s.fingerprint),
          [after.material.fingerprint],
        );
        assert.equal(await deps.store.readPending(credential.ref), null);
        assert.deepEqual(await invariantViolations(check), [], `after the rerun from ${point}`);
      } finally {
        await runtime.close();
        await world.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
