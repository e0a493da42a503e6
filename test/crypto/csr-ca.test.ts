import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import { readFile } from "node:fs/promises";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert } from "@peculiar/asn1-schema";
import { after, before, describe, it } from "node:test";
import {
  createCa,
  createCsr,
  createCsrFromCertificate,
  generateKeyPair,
  inspectCertificate,
  signClientCsr,
  verifyCsr,
} from "../../src/crypto/index.js";
import { parseName } from "../../src/crypto/names.js";
import { x509 } from "../../src/crypto/x509.js";
import { isCertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, days, hours } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

// OpenSSL cannot name 2.16.76.1.3.3 on the command line without a config; string_mask=default makes it
// pick PrintableString where it can, so the source subject mixes string types (a re-encoder would lose them).
const SOURCE_CNF = `oid_section = new_oids
[ new_oids ]
icpBrasilCnpj = 2.16.76.1.3.3
[ req ]
distinguished_name = dn
string_mask = default
prompt = no
[ dn ]
CN = unused
`;
const SOURCE_SUBJECT =
  "/C=BR/O=ICP-Brasil/OU=AC SOLUTI Multipla v5/OU=12345678000190/OU=Certificado PJ A1/jurisdictionC=BR" +
  "/businessCategory=Private Organization/serialNumber=12345678000190/icpBrasilCnpj=12345678000190" +
  "/UID=acme-client-42+CN=ACME PAGAMENTOS LTDA:12345678000190";
const SOURCE_SANS = "DNS:api.acme.example,IP:192.0.2.7,URI:https://acme.example/client,IP:2001:db8::7";

describe("CSR creation and local CA signing", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it("issues a client certificate that `openssl verify` accepts for TLS client auth under the CA", async () => {
    const ca = await aCa({ keyType: "rsa2048" });
    const client = await aClientCert({ ca, keyType: "p256" });
    await dir.write("ca.pem", ca.certPem);
    await dir.write("client.pem", client.certPem);
    const { stdout } = await openssl(
      ["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "ca.pem", "client.pem"],
      dir.path,
    );
    assert.equal(stdout.trim(), "client.pem: OK");
  });

  it("writes CSRs whose self-signature `openssl req -verify` accepts, with the requested subject and SANs", async () => {
    const { keyPem } = await generateKeyPair("p384");
    const csrPem = await createCsr({
      keyPem,
      subject: "CN=api-client,OU=Payments,O=Acme S.A.,C=BR",
      sans: ["dns:client.acme.example", "ip:10.1.2.3", "email:ops@acme.example", "uri:spiffe://acme/client"],
    });
    await dir.write("new.csr", csrPem);
    const verified = await openssl(["req", "-verify", "-noout", "-in", "new.csr"], dir.path);
    assert.match(verified.stdout + verified.stderr, /verify OK/);
    const subject = await openssl(
      ["req", "-in", "new.csr", "-noout", "-subject", "-nameopt", "RFC2253"],
      dir.path,
    );
    assert.equal(subject.stdout.trim(), "subject=CN=api-client,OU=Payments,O=Acme S.A.,C=BR");
    const text = await openssl(["req", "-in", "new.csr", "-noout", "-text"], dir.path);
    assert.match(
      text.stdout,
      /DNS:client\.acme\.example, IP Address:10\.1\.2\.3, email:ops@acme\.example, URI:spiffe:\/\/acme\/client/,
    );
  });

  for (const keyType of ["rsa2048", "p256", "p384"] as const) {
    for (const sans of [[], ["dns:client.acme.example", "ip:10.1.2.3"]]) {
      it(`encodes a ${keyType} CSR${sans.length ? " with SANs" : " without SANs"} as @peculiar/x509's generator does, and openssl verifies it`, async () => {
        const { keyPem } = await generateKeyPair(keyType);
        const subject = "CN=api-client,O=Acme S.A.,C=BR";
        const ours = new x509.Pkcs10CertificateRequest(await createCsr({ keyPem, subject, sans }));
        // the reference: the library's own generator over WebCrypto, same key, subject and extension
        const key = createPrivateKey(keyPem);
        const params =
          keyType === "rsa2048"
            ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
            : { name: "ECDSA", namedCurve: keyType === "p384" ? "P-384" : "P-256" };
        const hash = keyType === "p384" ? "SHA-384" : "SHA-256";
        const subtle = webcrypto.subtle;
        const privateKey = await subtle.importKey(
          "pkcs8",
          key.export({ type: "pkcs8", format: "der" }),
          params,
          false,
          ["sign"],
        );
        const publicKey = await subtle.importKey(
          "spki",
          createPublicKey(key).export({ type: "spki", format: "der" }),
          params,
          true,
          ["verify"],
        );
        const reference = await x509.Pkcs10CertificateRequestGenerator.create({
          name: new x509.Name(parseName(subject)), // the subject as our encoder spells it (UTF8String, RFC 4514 order)
          keys: { privateKey, publicKey },
          signingAlgorithm: { name: params.name, hash },
          extensions: sans.length
            ? [
                new x509.SubjectAlternativeNameExtension(
                  sans.map((san) => {
                    const [type, value] = san.split(":") as [string, string];
                    return { type: type === "dns" ? "dns" : "ip", value };
                  }),
                ),
              ]
            : [],
        });
        const infoOf = (csr: x509.Pkcs10CertificateRequest) =>
          Buffer.from(
            AsnConvert.serialize(
              AsnConvert.parse(csr.rawData, CertificationRequest).certificationRequestInfo,
            ),
          );
        assert.deepEqual(infoOf(ours), infoOf(reference), "the signed part is byte for byte the library's");
        assert.deepEqual(
          Buffer.from(
            AsnConvert.serialize(AsnConvert.parse(ours.rawData, CertificationRequest).signatureAlgorithm),
          ),
          Buffer.from(
            AsnConvert.serialize(
              AsnConvert.parse(reference.rawData, CertificationRequest).signatureAlgorithm,
            ),
          ),
          "and so is the signature algorithm",
        );
        await dir.write(`${keyType}-${sans.length}.csr`, ours.toString("pem"));
        const verified = await openssl(
          ["req", "-verify", "-noout", "-in", `${keyType}-${sans.length}.csr`],
          dir.path,
        );
        assert.match(verified.stdout + verified.stderr, /verify OK/);
      });
    }
  }

  it("copies a certificate's subject DER byte for byte, and its SANs, into the renewal CSR", async () => {
    await dir.write("src.cnf", SOURCE_CNF);
    await openssl(
      ["req", "-x509", "-config", "src.cnf", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        .concat([
          "-keyout",
          "src.key",
          "-out",
          "src.pem",
          "-days",
          "30",
          "-multivalue-rdn",
          "-subj",
          SOURCE_SUBJECT,
        ])
        .concat(["-addext", `subjectAltName=${SOURCE_SANS}`, "-addext", "extendedKeyUsage=clientAuth"]),
      dir.path,
    );
    const sourcePem = await readFile(dir.file("src.pem"), "utf8");
    const { keyPem } = await generateKeyPair("rsa2048");
    const csrPem = await createCsrFromCertificate(sourcePem, keyPem);
    await dir.write("renew.csr", csrPem);

    assert.deepEqual(verifyCsr(csrPem).subject, inspectCertificate(sourcePem).subjectDer);
    // OpenSSL's own reading, with every value dumped as the hex of its DER (tag included).
    for (const nameopt of ["RFC2253", "RFC2253,dump_all,dump_der"]) {
      const fromCert = await openssl(
        ["x509", "-in", "src.pem", "-noout", "-subject", "-nameopt", nameopt],
        dir.path,
      );
      const fromCsr = await openssl(
        ["req", "-in", "renew.csr", "-noout", "-subject", "-nameopt", nameopt],
        dir.path,
      );
      assert.equal(fromCsr.stdout, fromCert.stdout);
    }
    const rfc2253 = await openssl(
      ["req", "-in", "renew.csr", "-noout", "-subject", "-nameopt", "RFC2253"],
      dir.path,
    );
    assert.match(
      rfc2253.stdout,
      /^subject=CN=ACME PAGAMENTOS LTDA:12345678000190\+UID=acme-client-42,2\.16\.76\.1\.3\.3=#/,
    );
    const certText = await openssl(["x509", "-in", "src.pem", "-noout", "-ext", "subjectAltName"], dir.path);
    const csrText = await openssl(["req", "-in", "renew.csr", "-noout", "-text"], dir.path);
    const sanLine = certText.stdout.trim().split("\n")[1]!.trim();
    assert.match(
      sanLine,
      /^DNS:api\.acme\.example, IP Address:192\.0\.2\.7, URI:https:\/\/acme\.example\/client/,
    );
    assert.ok(csrText.stdout.includes(sanLine), "the CSR carries the same SAN line");
    assert.match(
      (await openssl(["req", "-verify", "-noout", "-in", "renew.csr"], dir.path)).stderr,
      /verify OK/,
    );
  });

  it("issues from a copied CSR a certificate with the source subject bytes, and the seed 002 client profile", async () => {
    const ca = await aCa({ keyType: "p384" });
    const source = await aClientCert({
      ca,
      keyType: "p256",
      subject: "UID=42,CN=acme,O=Acme,C=BR",
      sans: ["dns:a.example"],
    });
    const { keyPem } = await generateKeyPair("rsa2048");
    const certPem = await signClientCsr({
      csrPem: await createCsrFromCertificate(source.certPem, keyPem),
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      validityMs: days(365),
    });
    const info = inspectCertificate(certPem);
    assert.deepEqual(info.subjectDer, inspectCertificate(source.certPem).subjectDer);
    assert.equal(info.subject, "UID=42,CN=acme,O=Acme,C=BR");
    assert.deepEqual(info.sans, ["dns:a.example"]);
    assert.equal(info.isCa, false);
    assert.deepEqual(info.keyUsage, ["digitalSignature", "keyEncipherment"]);
    assert.deepEqual(info.extKeyUsage, ["clientAuth"]);
    assert.equal(info.keyType, "rsa2048");
    assert.equal(info.issuer, inspectCertificate(ca.certPem).subject);
    assert.match(info.serialNumber, /^[0-9a-f]{31,32}$/);
    await dir.write("profile.pem", certPem);
    const text = (await openssl(["x509", "-in", "profile.pem", "-noout", "-text"], dir.path)).stdout;
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
    assert.match(text, /Extended Key Usage: \s*TLS Web Client Authentication/);
    assert.match(text, /Subject Key Identifier/);
    assert.match(text, /Authority Key Identifier/);
  });

  it("makes a self-signed CA with critical CA:true and keyCertSign/cRLSign, valid from `now`", async () => {
    const now = new Date("2031-05-04T10:00:00Z");
    const ca = await createCa({
      subject: "CN=Acme Issuing CA,O=Acme,C=BR",
      keyType: "p256",
      validityMs: days(3650),
      now,
    });
    const info = inspectCertificate(ca.certPem);
    assert.equal(info.subject, "CN=Acme Issuing CA,O=Acme,C=BR");
    assert.equal(info.issuer, info.subject);
    assert.equal(info.isCa, true);
    assert.deepEqual(info.keyUsage, ["digitalSignature", "keyCertSign", "cRLSign"]);
    assert.equal(info.notAfter.getTime(), now.getTime() + days(3650));
    assert.ok(info.notBefore.getTime() <= now.getTime());
    await dir.write("self.pem", ca.certPem);
    const text = (await openssl(["x509", "-in", "self.pem", "-noout", "-text"], dir.path)).stdout;
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    assert.match(
      (
        await openssl(
          ["verify", "-CAfile", "self.pem", "-attime", String(now.getTime() / 1000 + 60), "self.pem"],
          dir.path,
        )
      ).stdout,
      /OK/,
    );
  });

  it("honours explicit notBefore/notAfter, so tests can make expired and nearly expiring certificates", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const ca = await aCa({ now: new Date(now.getTime() - days(400)) });
    const expired = await aClientCert({
      ca,
      notBefore: new Date(now.getTime() - days(100)),
      notAfter: new Date(now.getTime() - hours(1)),
    });
    assert.equal(expired.notAfter.toISOString(), "2029-12-31T23:00:00.000Z");
    assert.equal(expired.notBefore.toISOString(), "2029-09-23T00:00:00.000Z");
    const later = await aClientCert({ ca, now, notAfter: new Date(now.getTime() + days(10)) });
    assert.equal(later.notAfter.getTime(), now.getTime() + days(10));
    assert.ok(later.notBefore.getTime() <= now.getTime());
    // Beyond 2049 RFC 5280 requires GeneralizedTime: check both encodings read back.
    const far = await aClientCert({ ca, notAfter: new Date("2051-06-01T12:00:00Z") });
    assert.equal(far.notAfter.toISOString(), "2051-06-01T12:00:00.000Z");
  });

  it("refuses to sign a CSR whose signature does not verify (CSR_INVALID)", async () => {
    const ca = await aCa();
    const { keyPem } = await generateKeyPair("p256");
    const csrPem = await createCsr({ keyPem, subject: "CN=victim,O=Acme,C=BR" });
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const at = der.indexOf(Buffer.from("victim"));
    der.write("attack", at, "latin1"); // same length: still parses, signature no longer matches
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(
      signClientCsr({ csrPem: tampered, caCertPem: ca.certPem, caKeyPem: ca.keyPem, validityMs: days(1) }),
      (error) => isCertrotorError(error, "CSR_INVALID") && /does not verify/.test(error.message),
    );
  });

  it("refuses to sign with a CA key that does not belong to the CA certificate (KEY_MISMATCH)", async () => {
    const ca = await aCa();
    const other = await aCa();
    const { keyPem } = await generateKeyPair("p256");
    const csrPem = await createCsr({ keyPem, subject: "CN=x" });
    await assert.rejects(
      signClientCsr({ csrPem, caCertPem: ca.certPem, caKeyPem: other.keyPem, validityMs: days(1) }),
      (error) => isCertrotorError(error, "KEY_MISMATCH") && error.message.includes("issuing CA"),
    );
  });
});
