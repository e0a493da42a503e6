/**
 * Seeded credentials from a JSON file: certificates inline or by file (relative to the seed file),
 * bound at start-up and usable for a token; a malformed file fails naming the field.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { loadSeedFile, startSandbox } from "../../src/sandbox/index.js";
import { CertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, type ClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { bankConfig, rejection } from "./helpers.js";

describe("sandbox seed file", () => {
  let dir: string;
  let ca: PkiMaterial;
  let first: ClientCert;
  let second: ClientCert;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "certrotor-seed-"));
    ca = await aCa();
    [first, second] = await Promise.all([aClientCert({ ca }), aClientCert({ ca })]);
    writeFileSync(join(dir, "second.pem"), second.certPem);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("binds inline and file certificates to the seeded credential, both able to get a token", async () => {
    const path = join(dir, "seed.json");
    const seed = {
      credentials: [
        {
          client_id: "seeded",
          client_secret: "seeded-secret-1234567890",
          allowed_ips: ["127.0.0.1"],
          certificates: [first.certPem],
          certificate_files: ["second.pem"],
        },
      ],
    };
    writeFileSync(path, JSON.stringify(seed));
    const sandbox = await startSandbox({ clientCaPems: [ca.certPem], credentials: await loadSeedFile(path) });
    try {
      const bank = createBankingApi("seeded", bankConfig(sandbox), { caPem: sandbox.serverCaPem });
      const fingerprints = (await bank.slots.listSlots("seeded")).map((slot) => slot.fingerprint);
      assert.deepEqual(fingerprints, [first.fingerprint, second.fingerprint]);
      for (const cert of [first, second]) {
        await bank.requestToken(cert, { clientId: "seeded", clientSecret: "seeded-secret-1234567890" });
      }
    } finally {
      await sandbox.stop();
    }
  });

  it("fails a malformed seed file with CONFIG_INVALID naming the field", async () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ credentials: [{ client_id: "x", client_secret: 7 }] }));
    const error = await rejection(() => loadSeedFile(path));
    assert.ok(error instanceof CertrotorError && error.code === "CONFIG_INVALID");
    assert.match(error.message, /credentials\.0\.client_secret/);
  });

  it("fails a seed with three certificates for one credential at start-up, naming the credential", async () => {
    const third = await aClientCert({ ca });
    const error = await rejection(() =>
      startSandbox({
        credentials: [
          {
            clientId: "greedy",
            clientSecret: "s",
            certificates: [first.certPem, second.certPem, third.certPem],
          },
        ],
      }),
    );
    assert.ok(error instanceof CertrotorError && error.code === "CONFIG_INVALID");
    assert.match(error.message, /"greedy".*2 active certificates/);
  });
});
