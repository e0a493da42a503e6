import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifyAll } from "../../bench/soak/verify.js";
import type { SoakCredential } from "../../bench/soak/world.js";
import { createLogger } from "../../src/observability/logger.js";
import { runRotationAttempt } from "../../src/rotation/saga.js";
import { createRuntime } from "../../src/runtime.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { aWorld } from "../fixtures/world.js";

const silent = createLogger({ level: "silent" });

describe("the soak's end-of-run check", () => {
  it("passes a rotated credential and names what is wrong with the others", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 4 });
    const runtime = await createRuntime(world.config, { logger: silent });
    try {
      const credentials: SoakCredential[] = world.credentials.map((c) => ({
        id: c.id,
        store: "files",
        clientId: c.clientId,
        originalFingerprint: c.fingerprint,
      }));
      const rotatedAt: number[] = [];
      for (const id of ["cred-0", "cred-2", "cred-3"]) {
        const credential = await runtime.credential(id);
        await runRotationAttempt(runtime.depsFor(credential), credential, {
          trigger: "operator",
          force: true,
        });
        rotatedAt.push(Date.now());
      }
      // cred-1 is never rotated; cred-2 gets a foreign cert bound; cred-3's original cert is unbound (per the
      // bank's record) before any promotion away from it
      const foreign = await aClientCert({ ca: await aCa() });
      world.sandbox.bindCertificate(world.credentials[2]!.clientId, foreign.certPem);
      const early = {
        atMs: rotatedAt[0]! - 60_000,
        clientId: world.credentials[3]!.clientId,
        fingerprint: world.credentials[3]!.fingerprint,
        remaining: 1,
      };

      // the audit trail of cred-1 says its cert was unbound by a rotation that never promoted
      await runtime.journal.audit({
        at: new Date().toISOString(),
        credentialId: "cred-1",
        rotationId: "rot_never_promoted",
        action: "unbound",
        actor: "schedule",
        details: { fingerprint: world.credentials[1]!.fingerprint },
      });

      const verdicts = new Map(
        (await verifyAll(runtime, credentials, [early])).map((v) => [v.id, v] as const),
      );
      assert.deepEqual(verdicts.get("cred-0")?.violations, []);
      assert.equal(verdicts.get("cred-0")?.rotated, true);
      assert.equal(verdicts.get("cred-0")?.rotations, 1);
      assert.equal(verdicts.get("cred-1")?.rotated, false);
      assert.match(verdicts.get("cred-1")!.violations.join("; "), /not rotated/);
      assert.match(
        verdicts.get("cred-1")!.violations.join("; "),
        /4: rotation rot_never_promoted unbound .* with no "promoted" recorded/,
      );
      assert.match(
        verdicts.get("cred-2")!.violations.join("; "),
        /^3: bound cert .* has no key in the store/,
      );
      assert.match(
        verdicts.get("cred-2")!.violations.join("; "),
        /old cert not retired: 2 certificates bound/,
      );
      assert.match(verdicts.get("cred-3")!.violations.join("; "), /^4 \(bank\): .* before any promotion/);
    } finally {
      await runtime.close();
      await world.stop();
    }
  });
});
