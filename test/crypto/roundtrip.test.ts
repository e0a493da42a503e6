import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import {
  buildPfx,
  createCa,
  createCsr,
  generateKeyPair,
  inspectCertificate,
  KEY_TYPES,
  keyMatchesCertificate,
  randomPassphrase,
  readPfx,
  signClientCsr,
  verifyChain,
} from "../../src/crypto/index.js";
import { days } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

describe("round trip of each key type: key → CSR → CA signature → PFX → read back", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  for (const keyType of KEY_TYPES) {
    it(`${keyType}: every step is accepted by openssl and the key read back matches the certificate`, async () => {
      const ca = await createCa({ subject: `CN=${keyType} CA,O=Acme,C=BR`, keyType, validityMs: days(365) });
      const { keyPem, publicKeyPem } = await generateKeyPair(keyType);
      assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
      const csrPem = await createCsr({
        keyPem,
        subject: `CN=${keyType} client,O=Acme,C=BR`,
        sans: ["dns:c.example"],
      });
      const certPem = await signClientCsr({
        csrPem,
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        validityMs: days(90),
      });
      const info = inspectCertificate(certPem);
      assert.equal(info.keyType, keyType);
      assert.equal(info.publicKeyPem, publicKeyPem);
      assert.deepEqual(verifyChain(certPem, undefined, ca.certPem), [
        info.subject,
        `CN=${keyType} CA,O=Acme,C=BR`,
      ]);

      const passphrase = randomPassphrase();
      const pfx = buildPfx({ keyPem, certPem, chainPem: ca.certPem, passphrase, friendlyName: keyType });
      await dir.write(`${keyType}.csr`, csrPem);
      await dir.write(`${keyType}-ca.pem`, ca.certPem);
      await dir.write(`${keyType}.pem`, certPem);
      await dir.write(`${keyType}.pfx`, pfx);
      assert.match(
        (await openssl(["req", "-verify", "-noout", "-in", `${keyType}.csr`], dir.path)).stderr,
        /verify OK/,
      );
      const verified = await openssl(["verify", "-CAfile", `${keyType}-ca.pem`, `${keyType}.pem`], dir.path);
      assert.equal(verified.stdout.trim(), `${keyType}.pem: OK`);
      await openssl(
        [
          "pkcs12",
          "-in",
          `${keyType}.pfx`,
          "-nodes",
          "-passin",
          `pass:${passphrase}`,
          "-out",
          `${keyType}-out.pem`,
        ],
        dir.path,
      );
      const opensslOut = await readFile(dir.file(`${keyType}-out.pem`), "utf8");
      assert.ok(keyMatchesCertificate(opensslOut, certPem), "openssl's extracted key matches");

      const back = readPfx(pfx, passphrase);
      assert.equal(back.certPem, certPem);
      assert.equal(back.chainPem, ca.certPem);
      assert.ok(keyMatchesCertificate(back.keyPem, back.certPem));
      assert.equal(back.keyPem, keyPem);
    });
  }
});
