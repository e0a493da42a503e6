/**
 * `certrotor scan` on broken stored material: every kind of breakage is reported with its own code and
 * a message naming the field (never `BROKEN: INTERNAL`), logged, exit 2, and the scan changes nothing.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildPfx, generateKeyPair } from "../../src/crypto/index.js";
import type { Material } from "../../src/stores/types.js";
import { certrotor } from "../fixtures/cli.js";
import { aCa, aServerCert } from "../fixtures/pki.js";
import { installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld, withWorldFileStore } from "../fixtures/world.js";

const PASSPHRASE = "correct horse battery staple";

/** How each credential's stored material is broken, and what scan must call it. */
const BREAKAGES: Array<{
  what: string;
  code: string;
  message: RegExp;
  edit: (material: Material) => Promise<Material>;
}> = [
  {
    what: "a certificate PEM whose body is not base64",
    code: "PEM_MALFORMED",
    message: /current material certPem: the "CERTIFICATE" PEM block is not valid base64/,
    edit: async (m) => ({
      ...m,
      certPem: "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n",
    }),
  },
  {
    what: "a private key where the certificate should be",
    code: "PEM_WRONG_KIND",
    message: /current material certPem: expected a certificate, found a "PRIVATE KEY" PEM block/,
    edit: async (m) => ({ ...m, certPem: m.keyPem }),
  },
  {
    what: "a PKCS#12 that does not open with its passphrase",
    code: "PFX_BAD_PASSPHRASE",
    message: /current material pfxBase64: the PKCS#12 passphrase is wrong/,
    edit: async (m) => ({
      ...m,
      pfxBase64: buildPfx({ certPem: m.certPem, keyPem: m.keyPem, passphrase: PASSPHRASE }).toString(
        "base64",
      ),
      pfxPassphrase: "not the passphrase",
    }),
  },
  {
    what: "a truncated PKCS#12",
    code: "PFX_MALFORMED",
    message: /current material pfxBase64: the PKCS#12 data cannot be parsed/,
    edit: async (m) => {
      const pfx = buildPfx({ certPem: m.certPem, keyPem: m.keyPem, passphrase: PASSPHRASE });
      return {
        ...m,
        pfxBase64: pfx.subarray(0, pfx.length >> 1).toString("base64"),
        pfxPassphrase: PASSPHRASE,
      };
    },
  },
  {
    what: "a certificate without clientAuth",
    code: "CERT_INVALID",
    message: /current material certPem: the certificate does not allow TLS client authentication/,
    edit: async (m) => {
      const server = await aServerCert({ ca: await aCa() });
      return { ...m, certPem: server.certPem, keyPem: server.keyPem };
    },
  },
  {
    what: "a key that does not belong to the certificate",
    code: "KEY_MISMATCH",
    message: /current material: keyPem does not belong to the certificate in certPem/,
    edit: async (m) => ({ ...m, keyPem: (await generateKeyPair("p256")).keyPem }),
  },
];

describe("scan on broken stored material", () => {
  let world: TestWorld;
  let configPath: string;

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: BREAKAGES.length + 1 });
    configPath = join(world.dir, "certrotor.json");
    await writeFile(configPath, JSON.stringify({ ...world.config, log: { level: "warn" } }));
    await withWorldFileStore(world, async (store) => {
      for (const [i, breakage] of BREAKAGES.entries()) {
        const ref = { credentialId: `cred-${i}`, path: `certrotor/cred-${i}` };
        const current = await store.readCurrent(ref);
        await store.putCurrent(ref, await breakage.edit(current.material));
      }
    });
  });
  after(() => world.stop());

  it("names each breakage with its own code and field, logs it, exits 2 and changes nothing", async () => {
    const first = await certrotor("status", "cred-6", "--config", configPath); // creates the state dir
    assert.equal(first.code, 0, first.stderr);
    const before = await installationSnapshot(world);
    const run = await certrotor("scan", "--json", "--config", configPath);
    assert.equal(run.code, 2, run.stderr);
    const report = JSON.parse(run.stdout) as {
      entries: Array<{ credentialId: string; decision: string; reason: string; message: string }>;
    };
    const byId = new Map(report.entries.map((e) => [e.credentialId, e]));
    const logged = run.stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { credentialId?: string; code?: string; msg?: string });
    for (const [i, breakage] of BREAKAGES.entries()) {
      const entry = byId.get(`cred-${i}`);
      assert.equal(entry?.decision, "broken", breakage.what);
      assert.equal(entry.reason, breakage.code, `${breakage.what}: ${entry.message}`);
      assert.match(entry.message, breakage.message, breakage.what);
      assert.ok(
        logged.some((l) => l.credentialId === `cred-${i}` && l.code === breakage.code),
        `${breakage.what} is in the log`,
      );
    }
    assert.equal(byId.get(`cred-${BREAKAGES.length}`)?.decision, "due-now", "the intact credential");
    assert.ok(!run.stdout.includes(PASSPHRASE) && !run.stderr.includes(PASSPHRASE), "no passphrase echoed");
    assert.equal(await installationSnapshot(world), before);
  });
});
