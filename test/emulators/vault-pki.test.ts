/**
 * PKI fidelity of the Vault emulator through node-vault (protocols.md §2): `sign/:role` answers
 * certificate, issuing_ca, a ca_chain array, a lowercase colon-hex serial and integer expiration; the
 * issued certificate chains to the CA served without a token at `pki/cert/ca`, carries the CSR's key and
 * a subject rebuilt from the CN (as Vault does, not copied from the CSR); the CN becomes a DNS SAN only
 * when it is a hostname, and names are refused as builtin/logical/pki/issuing/issue_common.go refuses them.
 */
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createCsr, generateKeyPair } from "../../src/crypto/index.js";
import { type Client, clientFor, ENVELOPE_KEYS, refusal, sortedKeys } from "./vault-test-helpers.js";
import { startVaultEmulator, type VaultEmulator } from "./vault/server.js";

let vault: VaultEmulator;
let client: Client;
let keyPem: string;
let csr: string;

before(async () => {
  vault = await startVaultEmulator({ rootToken: "root-pki" });
  client = clientFor(vault);
  ({ keyPem } = await generateKeyPair("p256"));
  csr = await createCsr({ keyPem, subject: "CN=client-01.bank.example,O=Acme Payments,C=BR" });
  await client.write("pki/roles/clients", {
    allowed_domains: "bank.example",
    allow_subdomains: true,
    client_flag: true,
    server_flag: false,
    key_type: "any",
    ttl: "72h",
    max_ttl: "720h",
  });
});
after(() => vault.stop());

describe("Vault emulator: PKI", () => {
  it("signs a CSR with Vault's response shape: PEMs, ca_chain array, colon-hex serial, integer expiration", async () => {
    const body = await client.write("pki/sign/clients", { csr, common_name: "ignored.bank.example" });
    assert.deepEqual(sortedKeys(body), ENVELOPE_KEYS);
    assert.equal(body.mount_type, "pki");
    assert.equal(body.lease_id, "");
    assert.deepEqual(sortedKeys(body.data), [
      "ca_chain",
      "certificate",
      "expiration",
      "issuing_ca",
      "serial_number",
    ]);
    const { certificate, issuing_ca, ca_chain, serial_number, expiration } = body.data;
    assert.match(
      certificate,
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----$/,
      "no trailing newline",
    );
    assert.equal(issuing_ca, vault.pkiCaPem);
    assert.deepEqual(ca_chain, [vault.pkiCaPem]);
    assert.match(serial_number, /^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
    assert.equal(Number.isInteger(expiration), true);

    const cert = new X509Certificate(certificate);
    const ca = new X509Certificate(vault.pkiCaPem);
    assert.ok(cert.verify(ca.publicKey), "signed by the CA");
    assert.equal(cert.serialNumber.toLowerCase(), serial_number.replaceAll(":", ""));
    assert.equal(Math.floor(Date.parse(cert.validTo) / 1000), expiration);
    const ttl = expiration - Date.now() / 1000;
    assert.ok(ttl > 71 * 3600 && ttl <= 72 * 3600, "the role's ttl");
    assert.equal(
      cert.subject,
      "CN=client-01.bank.example",
      "Vault rebuilds the subject from the CSR's CN only",
    );
    assert.equal(cert.subjectAltName, "DNS:client-01.bank.example", "the CN is added as a DNS SAN");
    assert.equal(cert.keyUsage?.includes("1.3.6.1.5.5.7.3.2"), true, "clientAuth EKU");
    assert.equal(cert.keyUsage?.includes("1.3.6.1.5.5.7.3.1"), false, "no serverAuth with server_flag false");
    assert.ok(cert.checkPrivateKey(createPrivateKey(keyPem)), "the CSR's key");
  });

  it("refuses an unknown role with 400 unknown role: <name>", async () => {
    const refused = await refusal(client.write("pki/sign/nope", { csr }));
    assert.deepEqual(refused, {
      message: "unknown role: nope",
      status: 400,
      body: { errors: ["unknown role: nope"] },
    });
  });

  it("refuses a CN outside the role's domains, and caps a ttl beyond max_ttl with a warning", async () => {
    const other = await createCsr({ keyPem, subject: "CN=client.evil.example" });
    const refused = await refusal(client.write("pki/sign/clients", { csr: other }));
    assert.deepEqual(refused.body, { errors: ["common name client.evil.example not allowed by this role"] });
    const capped = await client.write("pki/sign/clients", { csr, ttl: "2000h" });
    // GetCertificateNotAfter: fmt.Sprintf("TTL %q is longer than permitted maxTTL %q, ...") of time.Durations.
    assert.deepEqual(capped.warnings, [
      'TTL "2000h0m0s" is longer than permitted maxTTL "720h0m0s", so maxTTL is being used',
    ]);
    assert.ok(capped.data.expiration - Date.now() / 1000 <= 720 * 3600);
  });

  it("serves the CA at pki/cert/ca without a token, and issued certs at pki/cert/:serial", async () => {
    const anonymous = clientFor(vault, null);
    const ca = await anonymous.read("pki/cert/ca");
    assert.equal(ca.data.certificate, vault.pkiCaPem);
    assert.equal(ca.data.revocation_time, 0);
    const signed = await client.write("pki/sign/clients", { csr });
    const bySerial = await anonymous.read(`pki/cert/${signed.data.serial_number.replaceAll(":", "-")}`);
    assert.equal(bySerial.data.certificate, signed.data.certificate);
    assert.equal(
      (await refusal(anonymous.write("pki/sign/clients", { csr }))).status,
      403,
      "signing needs a token",
    );
  });

  it("refuses a CN with a label over 63 characters with idna's error, unless exclude_cn_from_sans (GenerateCreationBundle)", async () => {
    await client.write("pki/roles/anything", {
      allow_any_name: true,
      enforce_hostnames: false,
      key_type: "any",
      ttl: "1h",
    });
    const label = "a".repeat(64);
    const long = await createCsr({ keyPem, subject: `CN=${label}.bank.example` });
    const refused = await refusal(
      client.write("pki/sign/anything", { csr: long, common_name: `${label}.bank.example` }),
    );
    assert.deepEqual(refused.body, { errors: [`idna: invalid label "${label}"`] });
    const signed = await client.write("pki/sign/anything", {
      csr: long,
      common_name: `${label}.bank.example`,
      exclude_cn_from_sans: true,
    });
    const cert = new X509Certificate(signed.data.certificate);
    assert.equal(cert.subject, `CN=${label}.bank.example`);
    assert.equal(cert.subjectAltName, undefined, "no SAN at all");
  });

  it("signs a CN that is not a hostname (an organisation name, client_app_01) without putting it in the DNS SANs", async () => {
    for (const cn of ["Org Exemplo Ltda", "client_app_01"]) {
      const request = await createCsr({ keyPem, subject: `CN=${cn},O=Org Exemplo Ltda,C=BR` });
      const signed = await client.write("pki/sign/anything", { csr: request, common_name: cn });
      const cert = new X509Certificate(signed.data.certificate);
      assert.equal(cert.subject, `CN=${cn}`);
      assert.equal(cert.subjectAltName, undefined, `${cn} is not a DNS name: no SAN`);
    }
  });

  it("refuses a CN that is not a hostname when the role enforces hostnames, even with allow_any_name (ValidateNames)", async () => {
    await client.write("pki/roles/any-enforced", { allow_any_name: true, key_type: "any", ttl: "1h" });
    const request = await createCsr({ keyPem, subject: "CN=Org Exemplo Ltda" });
    for (const extra of [{}, { exclude_cn_from_sans: true }]) {
      const refused = await refusal(
        client.write("pki/sign/any-enforced", { csr: request, common_name: "Org Exemplo Ltda", ...extra }),
      );
      assert.deepEqual(refused.body, { errors: ["common name Org Exemplo Ltda not allowed by this role"] });
    }
    // alt_names count only when the role does not take the CSR's SANs (use_csr_sans=false).
    await client.write("pki/roles/own-sans", { allow_any_name: true, use_csr_sans: false, key_type: "any" });
    const altRefused = await refusal(
      client.write("pki/sign/own-sans", { csr, common_name: "x.bank.example", alt_names: "not a host" }),
    );
    assert.deepEqual(altRefused.body, {
      errors: ["subject alternate name not a host is not a valid DNS name and cannot be included as a SAN"],
    });
  });

  it("reads a role back and lists roles", async () => {
    const role = await client.read("pki/roles/clients");
    assert.equal(role.data.key_type, "any");
    assert.equal(role.data.max_ttl, 720 * 3600);
    assert.deepEqual(role.data.allowed_domains, ["bank.example"]);
    assert.deepEqual((await client.list("pki/roles")).data.keys, [
      "any-enforced",
      "anything",
      "clients",
      "own-sans",
    ]);
    assert.deepEqual((await refusal(client.read("pki/roles/none"))).body, { errors: [] });
  });
});
