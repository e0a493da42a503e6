import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertClientCertificate,
  assertIssuedForCsr,
  createCsr,
  generateKeyPair,
  signClientCsr,
} from "../../src/crypto/index.js";
import { isCertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, aServerCert, days } from "../fixtures/pki.js";

describe("checks on what an issuer returns", () => {
  it("accepts a certificate issued for the CSR's key and refuses one for another key (CERT_INVALID)", async () => {
    const ca = await aCa();
    const { keyPem } = await generateKeyPair("p256");
    const csrPem = await createCsr({ keyPem, subject: "CN=rotating,O=Acme,C=BR" });
    const certPem = await signClientCsr({
      csrPem,
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      validityMs: days(30),
    });
    assert.equal(
      assertIssuedForCsr(certPem, csrPem, "vault-pki response").subject,
      "CN=rotating,O=Acme,C=BR",
    );
    const stranger = await aClientCert({ ca });
    assert.throws(
      () => assertIssuedForCsr(stranger.certPem, csrPem, "vault-pki response"),
      (error) => isCertrotorError(error, "CERT_INVALID") && error.message.startsWith("vault-pki response:"),
    );
  });

  it("accepts a valid client certificate and refuses server-only, CA, expired and not-yet-valid ones", async () => {
    const now = new Date("2030-06-01T00:00:00Z");
    const ca = await aCa({ now: new Date(now.getTime() - days(10)) });
    const client = await aClientCert({ ca, now });
    assert.equal(assertClientCertificate(client.certPem, "issued", now).fingerprint, client.fingerprint);
    const refused: [string, string, RegExp][] = [
      ["server", (await aServerCert({ ca, now })).certPem, /does not allow TLS client authentication/],
      ["ca", ca.certPem, /is a CA certificate/],
      ["expired", client.certPem, /expired at/],
      ["future", client.certPem, /not valid before/],
    ];
    for (const [name, certPem, why] of refused) {
      const at =
        name === "expired"
          ? new Date(now.getTime() + days(91))
          : name === "future"
            ? new Date(now.getTime() - days(1))
            : now;
      assert.throws(
        () => assertClientCertificate(certPem, name, at),
        (error) => isCertrotorError(error, "CERT_INVALID") && why.test(error.message),
        name,
      );
    }
  });

  it("refuses SANs that are not ASCII or have no value (BAD_ARGUMENT)", async () => {
    const { keyPem } = await generateKeyPair("p256");
    for (const san of ["dns:", "dns:bücher.example", "phone:123", "ip:999.1.1.1"]) {
      await assert.rejects(
        createCsr({ keyPem, subject: "CN=x", sans: [san] }),
        (e) => isCertrotorError(e, "BAD_ARGUMENT"),
        san,
      );
    }
  });
});
