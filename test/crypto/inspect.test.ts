import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import {
  encodeName,
  fingerprintOf,
  formatName,
  hasClientAuth,
  inspectCertificate,
  keyMatchesCertificate,
} from "../../src/crypto/index.js";
import { issuerDerOf, parseCertificatePem, subjectDerOf } from "../../src/crypto/parse.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

describe("inspectCertificate", () => {
  let dir: TempDir;
  let certPem: string;
  let keyPem: string;
  before(async () => {
    dir = await tempDir();
    // A certificate made by another tool, with every field inspect reports.
    await openssl(
      ["req", "-x509", "-newkey", "rsa:3072", "-nodes", "-keyout", "o.key", "-out", "o.pem", "-days", "40"]
        .concat(["-subj", "/C=BR/ST=SP/O=Acme\\, Inc./OU=Payments/CN=svc.acme.example"])
        .concat([
          "-addext",
          "subjectAltName=DNS:svc.acme.example,IP:192.0.2.1,IP:2001:db8::1,email:ops@acme.example",
        ])
        .concat(["-addext", "keyUsage=critical,digitalSignature,keyEncipherment"])
        .concat(["-addext", "extendedKeyUsage=serverAuth,clientAuth,1.3.6.1.4.1.99999.1"]),
      dir.path,
    );
    certPem = await readFile(dir.file("o.pem"), "utf8");
    keyPem = await readFile(dir.file("o.key"), "utf8");
  });
  after(async () => {
    await dir.remove();
  });

  it("reports the same fingerprint, serial, validity and subject as openssl", async () => {
    const info = inspectCertificate(certPem);
    const out = (args: string[]) => openssl(["x509", "-in", "o.pem", "-noout", ...args], dir.path);
    const fingerprint = (await out(["-fingerprint", "-sha256"])).stdout.trim().split("=")[1]!;
    assert.equal(info.fingerprint, fingerprint.replaceAll(":", "").toLowerCase());
    assert.equal(fingerprintOf(certPem), info.fingerprint);
    const serial = (await out(["-serial"])).stdout.trim().split("=")[1]!;
    assert.equal(info.serialNumber, serial.toLowerCase().replace(/^0+/, ""));
    const end = (await out(["-enddate"])).stdout.trim().split("=")[1]!;
    const start = (await out(["-startdate"])).stdout.trim().split("=")[1]!;
    assert.equal(info.notAfter.getTime(), new Date(end).getTime());
    assert.equal(info.notBefore.getTime(), new Date(start).getTime());
    const subject = (await out(["-subject", "-nameopt", "RFC2253"])).stdout.trim().replace(/^subject=/, "");
    assert.equal(info.subject, subject);
    assert.equal(info.subject, "CN=svc.acme.example,OU=Payments,O=Acme\\, Inc.,ST=SP,C=BR");
    assert.equal(info.issuer, info.subject);
  });

  it("reports SANs, key usage, extended key usage, CA flag, key type and public key", async () => {
    const info = inspectCertificate(certPem);
    assert.deepEqual(info.sans, [
      "dns:svc.acme.example",
      "ip:192.0.2.1",
      "ip:2001:db8::1",
      "email:ops@acme.example",
    ]);
    assert.deepEqual(info.keyUsage, ["digitalSignature", "keyEncipherment"]);
    assert.deepEqual(info.extKeyUsage, ["serverAuth", "clientAuth", "1.3.6.1.4.1.99999.1"]);
    const text = (await openssl(["x509", "-in", "o.pem", "-noout", "-text"], dir.path)).stdout;
    assert.equal(info.isCa, /CA:TRUE/.test(text));
    assert.equal(info.keyType, "rsa3072");
    assert.match(info.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.ok(keyMatchesCertificate(keyPem, certPem));
    assert.equal(info.subjectDer[0], 0x30);
  });

  it("gives the subject and issuer Names byte for byte where openssl finds them, in v3 and v1 certificates", async () => {
    // a v1 certificate has no [0] version field before its serial: the Names sit one field earlier
    await openssl(
      ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
        "-keyout",
        "v1.key",
        "-out",
        "v1.csr",
        "-subj",
        "/O=Acme/CN=v1.example",
      ]),
      dir.path,
    );
    await openssl(
      ["x509", "-req", "-in", "v1.csr", "-key", "v1.key", "-out", "v1.pem", "-days", "2"],
      dir.path,
    );
    const v1Pem = await readFile(dir.file("v1.pem"), "utf8");
    for (const [file, pem, version] of [
      ["o.pem", certPem, 3],
      ["v1.pem", v1Pem, 1],
    ] as const) {
      const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
      // the TBSCertificate's fields (depth 2) with their offsets and lengths, as openssl parses them
      const fields = (await openssl(["asn1parse", "-in", file], dir.path)).stdout
        .split("\n")
        .map((line) => /^\s*(\d+):d=2\s+hl=(\d+)\s+l=\s*(\d+)\s+\w+:\s*(.*)$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => ({ bytes: der.subarray(+m[1]!, +m[1]! + +m[2]! + +m[3]!), what: m[4]!.trim() }));
      const first = fields[0]!.what.startsWith("cont [ 0 ]") ? 1 : 0;
      assert.equal(first, version === 3 ? 1 : 0, `${file}: version field`);
      const parsed = parseCertificatePem(pem, file);
      assert.deepEqual(issuerDerOf(parsed), Buffer.from(fields[first + 2]!.bytes), `${file}: issuer`);
      assert.deepEqual(subjectDerOf(parsed), Buffer.from(fields[first + 4]!.bytes), `${file}: subject`);
      assert.deepEqual(inspectCertificate(pem).subjectDer, Buffer.from(fields[first + 4]!.bytes));
      assert.equal(formatName(inspectCertificate(pem).subjectDer), inspectCertificate(pem).subject);
    }
  });

  it("tells whether a certificate may authenticate a TLS client", async () => {
    const ca = await aCa();
    const client = await aClientCert({ ca });
    assert.equal(hasClientAuth(inspectCertificate(client.certPem)), true);
    assert.equal(hasClientAuth(inspectCertificate(ca.certPem)), true, "no EKU means any purpose (RFC 5280)");
    assert.equal(hasClientAuth({ extKeyUsage: ["serverAuth"], keyUsage: ["digitalSignature"] }), false);
    assert.equal(hasClientAuth({ extKeyUsage: ["clientAuth"], keyUsage: ["keyEncipherment"] }), false);
    assert.equal(hasClientAuth({ extKeyUsage: ["anyExtendedKeyUsage"], keyUsage: [] }), true);
  });

  it("writes and reads RFC 4514 names with escapes, multi-valued RDNs and OIDs without loss", async () => {
    const names = [
      "CN=Acme Issuing CA,O=Acme,C=BR",
      "CN=a\\,b\\+c=d\\;e,O=x\\\\y,C=BR",
      "CN=ACME LTDA:12345678000190+UID=acme-42,serialNumber=12345678000190,OU=One,OU=Two,C=BR",
      "2.16.76.1.3.3=#0c0e3132333435363738303030313930,businessCategory=Private Organization,jurisdictionC=BR",
      "CN=\\#hash,O=João Ltda,DC=example,DC=com",
    ];
    for (const name of names) assert.equal(formatName(encodeName(name)), name);
    await dir.write("name.pem", (await aClientCert({ ca: await aCa(), subject: names[1]! })).certPem);
    const { stdout } = await openssl(
      ["x509", "-in", "name.pem", "-noout", "-subject", "-nameopt", "RFC2253"],
      dir.path,
    );
    assert.equal(stdout.trim(), `subject=${names[1]}`);
  });
});
