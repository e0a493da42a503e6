import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import {
  assertKeyMatchesCertificate,
  buildPfx,
  createCsr,
  generateKeyPair,
  inspectCertificate,
  type KeyType,
  keyMatchesCertificate,
  loadPrivateKey,
  readPfx,
  signClientCsr,
  verifyChain,
} from "../../src/crypto/index.js";
import { type CertrotorError, type ErrorCode, isCertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, days, type PkiMaterial } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

const SECRET = "hunter2-do-not-log-me";

/** Runs `fn`, asserts it throws a CertrotorError with `code`, a one-line message naming `where`, and returns it. */
function expectCode(code: ErrorCode, where: string, fn: () => unknown): CertrotorError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(isCertrotorError(caught, code), `expected ${code}, got ${String(caught)}`);
  assert.ok(caught.message.includes(where), `"${caught.message}" names "${where}"`);
  assert.doesNotMatch(caught.message, /\n/);
  return caught;
}

/** Asserts none of the secrets (nor a recognisable piece of them) shows in what may reach logs or alerts. */
function assertNoSecret(error: CertrotorError, ...secrets: string[]): void {
  const visible = [
    error.message,
    error.toSafeString(),
    JSON.stringify(error),
    JSON.stringify(error.details),
  ].join("\n");
  for (const secret of secrets) {
    const body = secret.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    for (const piece of [secret, body.slice(0, 24), body.slice(-24)]) {
      if (piece) assert.ok(!visible.includes(piece), `error text leaks "${piece.slice(0, 8)}..."`);
    }
  }
}

describe("typed errors of the crypto core", () => {
  let ca: PkiMaterial;
  let client: PkiMaterial;
  let dir: TempDir;
  before(async () => {
    ca = await aCa();
    client = await aClientCert({ ca });
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it("reports text that is not PEM, broken base64 and truncated DER as PEM_MALFORMED naming where", () => {
    expectCode("PEM_MALFORMED", "cert.pem", () => inspectCertificate("hello", "cert.pem"));
    expectCode("PEM_MALFORMED", "cert.pem", () =>
      inspectCertificate(
        "-----BEGIN CERTIFICATE-----\n!!notbase64!!\n-----END CERTIFICATE-----\n",
        "cert.pem",
      ),
    );
    const truncated = client.certPem.split("\n").slice(0, 4).join("\n") + "\n-----END CERTIFICATE-----\n";
    expectCode("PEM_MALFORMED", "cert.pem", () => inspectCertificate(truncated, "cert.pem"));
    expectCode("PEM_MALFORMED", "key.pem", () =>
      loadPrivateKey(client.keyPem.replace(/-----END[^\n]+\n?$/, ""), undefined, "key.pem"),
    );
    // a whole PEM frame around bytes that are not DER: OpenSSL calls it "unsupported", we call it malformed
    const garbageKey = `-----BEGIN PRIVATE KEY-----\n${Buffer.from("not a key at all, just text").toString("base64")}\n-----END PRIVATE KEY-----\n`;
    expectCode("PEM_MALFORMED", "key.pem", () => loadPrivateKey(garbageKey, undefined, "key.pem"));
    const truncatedKey = `${client.keyPem.split("\n").slice(0, 2).join("\n")}\n-----END PRIVATE KEY-----\n`;
    expectCode("PEM_MALFORMED", "key.pem", () => loadPrivateKey(truncatedKey, undefined, "key.pem"));
    const notX509 = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"; // SEQUENCE { INTEGER 1 }
    const error = expectCode("PEM_MALFORMED", "store current material", () =>
      inspectCertificate(notX509, "store current material"),
    );
    assert.equal(error.retryable, false);
  });

  it("reports a key where a certificate is expected, and the reverse, as PEM_WRONG_KIND", async () => {
    const error = expectCode("PEM_WRONG_KIND", "client.pem", () =>
      inspectCertificate(client.keyPem, "client.pem"),
    );
    assert.match(error.message, /expected a certificate, found a "PRIVATE KEY" PEM block/);
    assertNoSecret(error, client.keyPem);
    expectCode("PEM_WRONG_KIND", "client.key", () => loadPrivateKey(client.certPem, undefined, "client.key"));
    await assert.rejects(
      signClientCsr({
        csrPem: client.certPem,
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        validityMs: days(1),
      }),
      (e) => isCertrotorError(e, "PEM_WRONG_KIND") && e.message.startsWith("CSR to sign:"),
    );
  });

  it("reports an encrypted key without passphrase as KEY_ENCRYPTED, decrypts it with one, and never echoes it", async () => {
    const encrypted = createPrivateKey(client.keyPem)
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: SECRET })
      .toString();
    assert.match(encrypted, /BEGIN ENCRYPTED PRIVATE KEY/);
    const missing = expectCode("KEY_ENCRYPTED", "vault:secret/acme", () =>
      loadPrivateKey(encrypted, undefined, "vault:secret/acme"),
    );
    assertNoSecret(missing, encrypted);
    const decrypted = loadPrivateKey(encrypted, SECRET);
    assert.match(decrypted, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(keyMatchesCertificate(decrypted, client.certPem));
    const wrong = expectCode("KEY_BAD_PASSPHRASE", "key.pem", () =>
      loadPrivateKey(encrypted, `${SECRET}x`, "key.pem"),
    );
    assertNoSecret(wrong, SECRET, encrypted);

    // The traditional OpenSSL form ("Proc-Type: 4,ENCRYPTED" headers) is encrypted too.
    const rsa = await generateKeyPair("rsa2048");
    const legacy = createPrivateKey(rsa.keyPem)
      .export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: SECRET })
      .toString();
    assert.match(legacy, /Proc-Type: 4,ENCRYPTED/);
    expectCode("KEY_ENCRYPTED", "legacy.key", () => loadPrivateKey(legacy, undefined, "legacy.key"));
    assert.equal(
      createPrivateKey(loadPrivateKey(legacy, SECRET)).export({ type: "pkcs8", format: "pem" }),
      rsa.keyPem,
    );
  });

  it("reports Ed25519, RSA-1024 and secp256k1 keys as UNSUPPORTED_KEY_TYPE, in keys and in CSRs", async () => {
    const pem = (key: ReturnType<typeof generateKeyPairSync>["privateKey"]): string =>
      key.export({ type: "pkcs8", format: "pem" }).toString();
    const keys = {
      ed25519: pem(generateKeyPairSync("ed25519").privateKey),
      rsa1024: pem(generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey),
      secp256k1: pem(generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey),
    };
    for (const [name, keyPem] of Object.entries(keys)) {
      const error = expectCode("UNSUPPORTED_KEY_TYPE", name, () => loadPrivateKey(keyPem, undefined, name));
      assertNoSecret(error, keyPem);
      await assert.rejects(createCsr({ keyPem, subject: "CN=x" }), (e) =>
        isCertrotorError(e, "UNSUPPORTED_KEY_TYPE"),
      );
      await dir.write(`${name}.key`, keyPem);
      await openssl(
        ["req", "-new", "-key", `${name}.key`, "-subj", "/CN=x", "-out", `${name}.csr`],
        dir.path,
      );
      const csrPem = await readFile(dir.file(`${name}.csr`), "utf8");
      await assert.rejects(
        signClientCsr({ csrPem, caCertPem: ca.certPem, caKeyPem: ca.keyPem, validityMs: days(1) }),
        (e) => isCertrotorError(e, "UNSUPPORTED_KEY_TYPE") && e.message.startsWith("CSR to sign:"),
      );
    }
    await assert.rejects(generateKeyPair("ed25519" as KeyType), (e) =>
      isCertrotorError(e, "UNSUPPORTED_KEY_TYPE"),
    );
  });

  it("reports a wrong PFX passphrase as PFX_BAD_PASSPHRASE without echoing either passphrase", () => {
    const pfx = buildPfx({ keyPem: client.keyPem, certPem: client.certPem, passphrase: SECRET });
    const error = expectCode("PFX_BAD_PASSPHRASE", "client.pfx", () =>
      readPfx(pfx, "guess-1234", "client.pfx"),
    );
    assertNoSecret(error, SECRET, "guess-1234", pfx.toString("base64"), client.keyPem);
  });

  it("reports bytes that are not PKCS#12 as PFX_MALFORMED", () => {
    const pfx = buildPfx({ keyPem: client.keyPem, certPem: client.certPem, passphrase: SECRET });
    expectCode("PFX_MALFORMED", "a.pfx", () => readPfx(Buffer.from("not a pfx at all"), SECRET, "a.pfx"));
    expectCode("PFX_MALFORMED", "b.pfx", () => readPfx(pfx.subarray(0, pfx.length - 40), SECRET, "b.pfx"));
    expectCode("PFX_MALFORMED", "c.pfx", () => readPfx(Buffer.from(client.certPem), SECRET, "c.pfx"));
    const error = expectCode("PFX_MALFORMED", "d.pfx", () => readPfx(Buffer.alloc(0), SECRET, "d.pfx"));
    assertNoSecret(error, SECRET);
  });

  it("reports a key that does not belong to the certificate as KEY_MISMATCH, also when building a PFX", async () => {
    const other = await aClientCert({ ca });
    assert.equal(keyMatchesCertificate(other.keyPem, client.certPem), false);
    const error = expectCode("KEY_MISMATCH", "store pending material", () =>
      assertKeyMatchesCertificate(other.keyPem, client.certPem, "store pending material"),
    );
    assertNoSecret(error, other.keyPem);
    expectCode("KEY_MISMATCH", "PFX build", () =>
      buildPfx({ keyPem: other.keyPem, certPem: client.certPem, passphrase: SECRET }),
    );
  });

  it("reports a certificate that does not chain to the bundle as CHAIN_INVALID", async () => {
    const otherCa = await aCa();
    const error = expectCode("CHAIN_INVALID", "bank CA pin", () =>
      verifyChain(client.certPem, undefined, otherCa.certPem, new Date(), "bank CA pin"),
    );
    assert.match(error.message, /no certificate in the chain or CA bundle issued/);
  });
});
