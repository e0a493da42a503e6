import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspectCertificate } from "../../src/crypto/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { retireDue } from "../../src/rotation/retire-due.js";
import { runRotation } from "../../src/rotation/run.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type IssuerKind, type StoreKind } from "../fixtures/world.js";

const HOUR = 3_600_000;
const COMBINATIONS: Array<[StoreKind, IssuerKind]> = [
  ["vault", "local-ca"],
  ["aws", "bank"],
  ["file", "local-ca"],
  ["vault", "vault-pki"],
];

describe("end-to-end rotation on each store and issuer combination", () => {
  for (const [storeKind, issuerKind] of COMBINATIONS) {
    it(`rotates on ${storeKind} + ${issuerKind}: consumers read working material as current, the old cert is unbound after the grace period`, async () => {
      const clock = { now: new Date() };
      const world = await aWorld({
        store: storeKind,
        issuer: issuerKind,
        renewal: { gracePeriod: HOUR },
        now: () => clock.now,
      });
      let runtime: Runtime | undefined;
      try {
        runtime = await createRuntime(world.config, {
          logger: createLogger({ level: "silent" }),
          now: () => clock.now,
        });
        const credential = await runtime.credential("cred-0");
        const deps = runtime.depsFor(credential);
        const { clientId, clientSecret, fingerprint: oldFingerprint } = world.credentials[0]!;
        const result = await runRotation(deps, credential, { trigger: "inline", force: true });
        assert.equal(result.status, "retire-due");

        // what consumers read as current now works at the bank
        const current = await deps.store.readCurrent(credential.ref);
        assert.notEqual(current.material.fingerprint, oldFingerprint);
        const token = await deps.bank.requestToken(
          { certPem: current.material.certPem, keyPem: current.material.keyPem },
          { clientId, clientSecret },
        );
        assert.equal(token.boundToCert, true);
        const info = inspectCertificate(current.material.certPem);
        assert.ok(info.extKeyUsage.includes("clientAuth"));
        assert.deepEqual(
          await invariantViolations({ store: deps.store, bank: deps.bank, ref: credential.ref, clientId }),
          [],
        );
        assert.equal(
          (await requireSlots(deps.bank).listSlots(clientId)).length,
          2,
          "the old cert stays bound during the grace period",
        );

        clock.now = new Date(clock.now.getTime() + HOUR + 1_000);
        const swept = await retireDue(runtime.journal, clock.now, async () => ({ deps, credential }));
        assert.ok(swept.length === 1 && "outcome" in swept[0]! && swept[0].outcome.status === "succeeded");
        assert.deepEqual(
          (await requireSlots(deps.bank).listSlots(clientId)).map((s) => s.fingerprint),
          [current.material.fingerprint],
        );
        const previous = await deps.store.readPrevious(credential.ref);
        assert.equal(previous?.material.fingerprint, oldFingerprint);
      } finally {
        await runtime?.close();
        await world.stop();
      }
    });
  }
});
