import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import { readFile } from "node:fs/promises";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { after, before, describe, it } from "node:test";
import {
  createCsrFromCertificate,
  generateKeyPair,
  inspectCertificate,
  issueCertificate,
  verifyCsr,
} from "../../src/crypto/index.js";
import { parseName } from "../../src/crypto/names.js";
import { x509 } from "../../src/crypto/x509.js";
import { isCertrotorError } from "../../src/errors.js";
import { aCa, days } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

const pemOf = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der.toString("base64")}\n-----END CERTIFICATE-----\n`;

describe("issueCertificate and SAN/subject copies", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it("issues a certificate with the requested subject, profile and SANs that `openssl verify` accepts", async () => {
    const ca = await aCa({ keyType: "rsa2048" });
    const { publicKeyPem } = await generateKeyPair("p256");
    const now = new Date();
    const certPem = await issueCertificate({
      subject: "CN=svc.example,OU=Ops\\, Team,O=Acme,C=BR",
      publicKey: publicKeyPem,
      issuer: ca,
      notBefore: now,
      notAfter: new Date(now.getTime() + days(30)),
      serial: Buffer.from("0102030405", "hex"),
      keyUsage: ["digitalSignature"],
      extKeyUsage: ["serverAuth"],
      sans: ["dns:svc.example", "ip:127.0.0.1", "ip:::ffff:192.0.2.1"],
    });
    const info = inspectCertificate(certPem);
    assert.equal(info.subject, "CN=svc.example,OU=Ops\\, Team,O=Acme,C=BR");
    assert.equal(info.serialNumber, "102030405");
    assert.deepEqual(info.sans, ["dns:svc.example", "ip:127.0.0.1", "ip:::ffff:c000:201"]);
    assert.deepEqual(info.extKeyUsage, ["serverAuth"]);
    assert.equal(info.publicKeyPem, publicKeyPem);
    await dir.write("ca.pem", ca.certPem);
    await dir.write("svc.pem", certPem);
    const verified = await openssl(
      ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.pem", "svc.pem"],
      dir.path,
    );
    assert.equal(verified.stdout.trim(), "svc.pem: OK");
    const text = (await openssl(["x509", "-in", "svc.pem", "-noout", "-text"], dir.path)).stdout;
    assert.match(text, /IP Address:192\.0\.2\.1|IP Address:0:0:0:0:0:FFFF:C000:201/);
  });

  for (const caKey of ["rsa2048", "p256", "p384"] as const) {
    it(`encodes a certificate signed by a ${caKey} CA as @peculiar/x509's generator does (byte for byte for RSA), and openssl verifies it`, async () => {
      const ca = await aCa({ keyType: caKey });
      const subjectKey = await generateKeyPair("p256");
      const notBefore = new Date("2026-01-02T03:04:05Z");
      const notAfter = new Date("2051-01-02T03:04:05Z"); // past 2049: GeneralizedTime
      const serial = Buffer.from("00c0ffee00112233445566778899aabb", "hex"); // a leading zero and then a high bit
      const ours = await issueCertificate({
        subject: "CN=api-client,O=Acme S.A.,C=BR",
        publicKey: subjectKey.publicKeyPem,
        issuer: ca,
        notBefore,
        notAfter,
        serial,
        keyUsage: ["digitalSignature"],
        extKeyUsage: ["clientAuth"],
        sans: ["dns:client.acme.example", "ip:10.1.2.3"],
      });
      // the reference: the library's generator over WebCrypto, same inputs
      const caCert = new x509.X509Certificate(ca.certPem);
      const caKeyObject = createPrivateKey(ca.keyPem);
      const params =
        caKey === "rsa2048"
          ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
          : { name: "ECDSA", namedCurve: caKey === "p384" ? "P-384" : "P-256" };
      const signingKey = await webcrypto.subtle.importKey(
        "pkcs8",
        caKeyObject.export({ type: "pkcs8", format: "der" }),
        params,
        false,
        ["sign"],
      );
      const spki = createPublicKey(subjectKey.publicKeyPem).export({ type: "spki", format: "der" });
      const reference = await x509.X509CertificateGenerator.create({
        serialNumber: serial.toString("hex"),
        subject: new x509.Name(parseName("CN=api-client,O=Acme S.A.,C=BR")),
        issuer: caCert.subjectName,
        notBefore,
        notAfter,
        publicKey: spki,
        signingKey,
        signingAlgorithm: { name: params.name, hash: caKey === "p384" ? "SHA-384" : "SHA-256" },
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
          new x509.SubjectAlternativeNameExtension(
            [
              { type: "dns", value: "client.acme.example" },
              { type: "ip", value: "10.1.2.3" },
            ],
            false,
          ),
          await x509.SubjectKeyIdentifierExtension.create(spki, false),
          await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
        ],
      });
      const parts = (der: ArrayBuffer) => {
        const cert = AsnConvert.parse(der, Certificate);
        return {
          tbs: Buffer.from(AsnConvert.serialize(cert.tbsCertificate)),
          algorithm: Buffer.from(AsnConvert.serialize(cert.signatureAlgorithm)),
        };
      };
      const mine = new x509.X509Certificate(ours);
      assert.deepEqual(parts(mine.rawData), parts(reference.rawData));
      if (caKey === "rsa2048")
        assert.equal(ours, reference.toString("pem") + "\n", "PKCS#1 v1.5 is deterministic");
      await dir.write(`ca-${caKey}.pem`, ca.certPem);
      await dir.write(`leaf-${caKey}.pem`, ours);
      const verified = await openssl(
        [
          "verify",
          "-partial_chain",
          "-attime",
          "1800000000",
          "-CAfile",
          `ca-${caKey}.pem`,
          `leaf-${caKey}.pem`,
        ],
        dir.path,
      );
      assert.match(verified.stdout, /OK/);
    });
  }

  it("copies otherName SANs (ICP-Brasil's CPF/CNPJ) into the renewal CSR byte for byte", async () => {
    await openssl(
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        .concat(["-keyout", "icp.key", "-out", "icp.pem", "-days", "10", "-subj", "/C=BR/CN=ACME:1"])
        .concat([
          "-addext",
          "subjectAltName=otherName:2.16.76.1.3.3;UTF8:12345678000190,DNS:api.acme.example",
        ]),
      dir.path,
    );
    const sourcePem = await readFile(dir.file("icp.pem"), "utf8");
    assert.deepEqual(inspectCertificate(sourcePem).sans, ["other:[0]", "dns:api.acme.example"]);
    const { keyPem } = await generateKeyPair("p256");
    const csrPem = await createCsrFromCertificate(sourcePem, keyPem);
    assert.deepEqual(verifyCsr(csrPem).sans, ["other:[0]", "dns:api.acme.example"]);
    await dir.write("icp.csr", csrPem);
    const certSan = (
      await openssl(["x509", "-in", "icp.pem", "-noout", "-ext", "subjectAltName"], dir.path)
    ).stdout
      .trim()
      .split("\n")[1]!
      .trim();
    assert.match(certSan, /^othername: 2\.16\.76\.1\.3\.3/i);
    const csrText = (await openssl(["req", "-in", "icp.csr", "-noout", "-text"], dir.path)).stdout;
    assert.ok(csrText.includes(certSan), "the CSR carries the same SAN line");
  });

  it("refuses to copy a subject it could not write back byte for byte (CERT_INVALID)", async () => {
    const ca = await aCa({ subject: "CN=ABCD,O=Acme,C=BR" });
    const der = Buffer.from(ca.certPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    // The subject's CN "ABCD" (UTF8String) becomes a UniversalString of the same length holding U+1F600:
    // OpenSSL still parses the certificate, but no re-encoding of that subject gives back these bytes.
    const at = der.lastIndexOf(Buffer.from("0c0441424344", "hex"));
    der.set(Buffer.from("1c040001f600", "hex"), at);
    const { keyPem } = await generateKeyPair("p256");
    await assert.rejects(
      createCsrFromCertificate(pemOf(der), keyPem),
      (error) => isCertrotorError(error, "CERT_INVALID") && /byte for byte/.test(error.message),
    );
  });
});
