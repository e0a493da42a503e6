import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { createCsr, generateKeyPair, signClientCsr, verifyChain } from "../../src/crypto/index.js";
import { type ErrorCode, isCertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, type ClientCert, days, type PkiMaterial } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

const NOW = new Date("2032-03-01T12:00:00Z");

const INTERMEDIATE_EXT = `[ v3_intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, digitalSignature, cRLSign, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

function rejectsWith(code: ErrorCode, pattern: RegExp, fn: () => unknown): void {
  assert.throws(fn, (error) => isCertrotorError(error, code) && pattern.test(error.message));
}

describe("verifyChain", () => {
  let dir: TempDir;
  let root: PkiMaterial;
  let intermediate: PkiMaterial;
  let leaf: ClientCert;

  /** An intermediate CA signed by `root` with the openssl CLI (certrotor's CA only issues leaves). */
  async function opensslIntermediate(name: string, days = 3000): Promise<PkiMaterial> {
    await dir.write("root.pem", root.certPem);
    await dir.write("root.key", root.keyPem);
    await dir.write("ext.cnf", INTERMEDIATE_EXT);
    await openssl(
      [
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${name}.key`,
      ].concat(["-subj", `/C=BR/O=Acme/CN=${name}`, "-out", `${name}.csr`]),
      dir.path,
    );
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
      ].concat([
        "-days",
        String(days),
        "-extfile",
        "ext.cnf",
        "-extensions",
        "v3_intermediate",
        "-out",
        `${name}.pem`,
      ]),
      dir.path,
    );
    return {
      certPem: await readFile(dir.file(`${name}.pem`), "utf8"),
      keyPem: await readFile(dir.file(`${name}.key`), "utf8"),
    };
  }

  before(async () => {
    dir = await tempDir();
    root = await aCa({ keyType: "rsa2048", subject: "CN=Acme Root,O=Acme,C=BR" });
    intermediate = await opensslIntermediate("Acme Issuing");
    leaf = await aClientCert({ ca: intermediate, now: NOW, notAfter: new Date(NOW.getTime() + days(30)) });
  });
  after(async () => {
    await dir.remove();
  });

  it("accepts leaf → intermediate → root and returns the path, as `openssl verify` does", async () => {
    const path = verifyChain(leaf.certPem, intermediate.certPem, root.certPem, NOW);
    assert.equal(path.length, 3);
    assert.equal(path[1], "CN=Acme Issuing,O=Acme,C=BR");
    assert.equal(path[2], "CN=Acme Root,O=Acme,C=BR");
    await dir.write("leaf.pem", leaf.certPem);
    await dir.write("inter.pem", intermediate.certPem);
    const verified = await openssl(
      [
        "verify",
        "-attime",
        String(NOW.getTime() / 1000),
        "-CAfile",
        "root.pem",
        "-untrusted",
        "inter.pem",
        "leaf.pem",
      ],
      dir.path,
    );
    assert.equal(verified.stdout.trim(), "leaf.pem: OK");
  });

  it("accepts the chain appended to the leaf PEM, and an intermediate pinned as the trust anchor", () => {
    assert.equal(verifyChain(leaf.certPem + intermediate.certPem, undefined, root.certPem, NOW).length, 3);
    assert.equal(verifyChain(leaf.certPem, undefined, intermediate.certPem, NOW).length, 2);
    const otherRoot = `${root.certPem}`;
    assert.equal(
      verifyChain(leaf.certPem, intermediate.certPem, otherRoot + intermediate.certPem, NOW).length,
      2,
    );
  });

  it("names the missing link when the intermediate is not supplied", () => {
    rejectsWith(
      "CHAIN_INVALID",
      /no certificate in the chain or CA bundle issued "CN=client-.*" \(issuer "CN=Acme Issuing/,
      () => verifyChain(leaf.certPem, undefined, root.certPem, NOW),
    );
  });

  it("rejects a leaf outside its validity window at `now`, saying which bound", () => {
    rejectsWith("CHAIN_INVALID", /expired at 2032-03-31T12:00:00.000Z/, () =>
      verifyChain(leaf.certPem, intermediate.certPem, root.certPem, new Date(NOW.getTime() + days(31))),
    );
    rejectsWith("CHAIN_INVALID", /is not valid before/, () =>
      verifyChain(leaf.certPem, intermediate.certPem, root.certPem, new Date(NOW.getTime() - days(1))),
    );
  });

  it("rejects an expired intermediate even when the leaf is valid", async () => {
    const shortLived = await opensslIntermediate("Short Lived", 1);
    const young = await aClientCert({ ca: shortLived, notAfter: new Date(Date.now() + days(30)) });
    rejectsWith("CHAIN_INVALID", /"CN=Short Lived,O=Acme,C=BR" expired at/, () =>
      verifyChain(young.certPem, shortLived.certPem, root.certPem, new Date(Date.now() + days(2))),
    );
  });

  it("rejects a certificate issued by a non-CA certificate", async () => {
    await dir.write("leaf.key", leaf.keyPem);
    await dir.write("leaf.pem", leaf.certPem);
    const { keyPem } = await generateKeyPair("p256");
    await dir.write("sub.csr", await createCsr({ keyPem, subject: "CN=sub" }));
    // certrotor's CA refuses to do this (CERT_INVALID); openssl signs whatever it is asked to.
    await assert.rejects(
      signClientCsr({
        csrPem: await readFile(dir.file("sub.csr"), "utf8"),
        caCertPem: leaf.certPem,
        caKeyPem: leaf.keyPem,
        validityMs: days(1),
      }),
      (error) => isCertrotorError(error, "CERT_INVALID"),
    );
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        "sub.csr",
        "-CA",
        "leaf.pem",
        "-CAkey",
        "leaf.key",
        "-set_serial",
        "7",
        "-days",
        "1",
      ].concat(["-out", "sub.pem"]),
      dir.path,
    );
    const sub = await readFile(dir.file("sub.pem"), "utf8");
    rejectsWith("CHAIN_INVALID", /issuer "CN=client-.*" is not a CA/, () =>
      verifyChain(sub, leaf.certPem + intermediate.certPem, root.certPem),
    );
  });

  it("rejects a chain whose issuer has the right name but the wrong key", async () => {
    const impostor = await aCa({ subject: "CN=Acme Root,O=Acme,C=BR" });
    rejectsWith("CHAIN_INVALID", /signature of "CN=Acme Issuing,O=Acme,C=BR" does not verify/, () =>
      verifyChain(leaf.certPem, intermediate.certPem, impostor.certPem, NOW),
    );
  });

  it("rejects a leaf whose signature was tampered with", () => {
    const der = Buffer.from(leaf.certPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 3]! ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE-----\n${der.toString("base64")}\n-----END CERTIFICATE-----\n`;
    rejectsWith("CHAIN_INVALID", /does not verify/, () =>
      verifyChain(tampered, intermediate.certPem, root.certPem, NOW),
    );
  });
});
