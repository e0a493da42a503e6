import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifyAll } from "../../bench/soak/verify.js";
import type { AuditEvent } from "../../src/journal/types.js";
import { duplicateAuditEvents, secondCertificates } from "../fixtures/audit.js";
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

      // what a stale worker would leave: cred-2's rotation issues another certificate after staging; cred-3's
      // finished record is not what it was when first seen finished, and the bank signed for it after it
      // finished; and the bank signed for a rotation no journal knows
      const rotationOf = async (id: string) => (await runtime.journal.latest(id))!;
      const second = await rotationOf("cred-2");
      await runtime.journal.audit({
        at: new Date(Date.now() + 1_000).toISOString(),
        credentialId: "cred-2",
        rotationId: second.rotationId,
        action: "issued",
        actor: "schedule",
        details: { fingerprint: "f".repeat(64) },
      });
      const third = await rotationOf("cred-3");
      const finished = new Map([
        [(await rotationOf("cred-0")).rotationId, await rotationOf("cred-0")],
        [third.rotationId, { ...third, status: "failed" as const, errorCode: "VERIFY_FAILED" }],
      ]);
      const signs = [
        { atMs: Date.parse(third.finishedAt!) + 5_000, rotationId: third.rotationId },
        { atMs: Date.now(), rotationId: "rot_0123456789abcdef" },
      ];

      const { verdicts: list, unattributedSigns } = await verifyAll(runtime, credentials, {
        unbinds: [early],
        signs,
        finished,
      });
      const verdicts = new Map(list.map((v) => [v.id, v] as const));
      assert.deepEqual(verdicts.get("cred-0")?.violations, []);
      assert.deepEqual(verdicts.get("cred-0")?.integrity, {
        issuedTwice: [],
        duplicateAudit: [],
        changedAfterFinish: [],
      });
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

      assert.deepEqual(verdicts.get("cred-2")?.integrity.issuedTwice, [
        `rotation ${second.rotationId} issued ffffffffffff after it had staged its material`,
      ]);
      const stale = verdicts.get("cred-3")!.integrity;
      assert.deepEqual(stale.changedAfterFinish, [
        `journal: rotation ${third.rotationId} changed after it finished failed (status, errorCode; now succeeded)`,
      ]);
      assert.match(
        stale.issuedTwice.join("; "),
        new RegExp(`bank: signed a certificate for rotation ${third.rotationId} at .*, after it finished`),
      );
      assert.ok(verdicts.get("cred-3")!.violations.includes(stale.changedAfterFinish[0]!));
      assert.deepEqual(unattributedSigns, [
        "bank: signed 1 certificate(s) for rot_0123456789abcdef, a rotation no journal record knows",
      ]);
    } finally {
      await runtime.close();
      await world.stop();
    }
  });

  it("finds an audit event recorded twice, and a rotation that staged, bound or promoted two certificates", () => {
    const event = (action: AuditEvent["action"], fingerprint: string, at: number): AuditEvent => ({
      at: new Date(at).toISOString(),
      credentialId: "cred-0",
      rotationId: "rot_1",
      action,
      actor: "schedule",
      details: { fingerprint },
    });
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    // a killed attempt's certificate a, then b staged and live: no finding
    const clean = [event("issued", a, 1), event("issued", b, 2), event("staged", b, 3), event("bound", b, 4)];
    assert.deepEqual(duplicateAuditEvents(clean), []);
    assert.deepEqual(secondCertificates(clean), []);
    assert.deepEqual(duplicateAuditEvents([...clean, event("bound", b, 5)]), ["rot_1 bound|" + b + " ×2"]);
    assert.deepEqual(secondCertificates([...clean, event("promoted", a, 6), event("promoted", b, 7)]), [
      `rotation rot_1 promoted 2 certificates: aaaaaaaaaaaa, bbbbbbbbbbbb`,
    ]);
  });
});
