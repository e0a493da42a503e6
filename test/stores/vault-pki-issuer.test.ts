/**
 * The vault-pki issuer against the Vault emulator's PKI: a client certificate whose CN is not a hostname
 * (an organisation name, `client_app_01`, a CN with a label over 63 characters) is signed, because the issuer
 * sends `exclude_cn_from_sans` for it (Vault otherwise runs the CN through idna and refuses a long label,
 * builtin/logical/pki/issuing/issue_common.go); a hostname CN keeps Vault's default, a DNS SAN equal to the
 * CN; Vault's refusal reaches the caller as ISSUER_FAILED with Vault's words, not retried.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { issuerSchema } from "../../src/config/schema.js";
import { createCsr, generateKeyPair } from "../../src/crypto/index.js";
import { createVaultPkiIssuer, isVaultHostname } from "../../src/issuers/vault-pki.js";
import type { Issuer } from "../../src/issuers/types.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";

let vault: VaultEmulator;
let keyPem: string;

async function issuerFor(role: string): Promise<Issuer> {
  const parsed = issuerSchema.parse({
    kind: "vault-pki",
    address: vault.url,
    auth: { method: "token", token: vault.rootToken },
    role,
  });
  if (parsed.kind !== "vault-pki") throw new Error("expected a vault-pki issuer config");
  return createVaultPkiIssuer("pki-test", parsed);
}

async function sign(issuer: Issuer, subject: string): Promise<X509Certificate> {
  const csrPem = await createCsr({ keyPem, subject });
  const issued = await issuer.issue({ csrPem, rotationId: "r1", credentialId: "c1", now: new Date() });
  return new X509Certificate(issued.certPem);
}

async function role(name: string, fields: object): Promise<void> {
  const response = await fetch(`${vault.url}/v1/pki/roles/${name}`, {
    method: "POST",
    headers: { "X-Vault-Token": vault.rootToken, "Content-Type": "application/json" },
    body: JSON.stringify({ key_type: "any", client_flag: true, server_flag: false, ttl: "720h", ...fields }),
  });
  assert.ok(response.ok, `role ${name}: ${response.status}`);
}

before(async () => {
  vault = await startVaultEmulator();
  ({ keyPem } = await generateKeyPair("p256"));
  await role("org-names", { allow_any_name: true, enforce_hostnames: false });
  await role("hostnames", { allowed_domains: "bank.example", allow_subdomains: true });
});
after(() => vault.stop());

describe("vault-pki issuer: CNs that are not hostnames", () => {
  it("tells hostnames from other CNs as Vault's hostname pattern does", () => {
    for (const cn of ["client-01.bank.example", "localhost", "a.b", `${"a".repeat(63)}.example`])
      assert.equal(isVaultHostname(cn), true, cn);
    for (const cn of [
      "Org Exemplo Ltda",
      "client_app_01",
      `${"a".repeat(64)}.example`,
      "-bad.example",
      "",
      "a..b",
    ])
      assert.equal(isVaultHostname(cn), false, cn);
  });

  it("signs an organisation name, client_app_01 and a CN with a 64-character label, with no SAN", async () => {
    const issuer = await issuerFor("org-names");
    try {
      for (const cn of ["Org Exemplo Ltda", "client_app_01", `${"a".repeat(64)}.bank.example`]) {
        const cert = await sign(issuer, `CN=${cn},O=Org Exemplo Ltda,C=BR`);
        assert.equal(cert.subject, `CN=${cn}`);
        assert.equal(cert.subjectAltName, undefined, `${cn}: no SAN`);
      }
    } finally {
      await issuer.close();
    }
  });

  it("leaves a hostname CN to Vault's default: also a DNS SAN", async () => {
    const issuer = await issuerFor("hostnames");
    try {
      const cert = await sign(issuer, "CN=client-01.bank.example,O=Org Exemplo Ltda,C=BR");
      assert.equal(cert.subjectAltName, "DNS:client-01.bank.example");
    } finally {
      await issuer.close();
    }
  });

  it("reports Vault's refusal (a role that enforces hostnames) as ISSUER_FAILED with Vault's words, not retried", async () => {
    const issuer = await issuerFor("hostnames");
    try {
      const csrPem = await createCsr({ keyPem, subject: "CN=Org Exemplo Ltda" });
      const from = vault.logs.length;
      const error = await expectCode(
        issuer.issue({ csrPem, rotationId: "r2", credentialId: "c1", now: new Date() }),
        "ISSUER_FAILED",
      );
      assert.match(
        error.message,
        /Vault refused to sign: common name Org Exemplo Ltda not allowed by this role/,
      );
      assert.equal((error as { retryable?: boolean }).retryable, false);
      assert.deepEqual(vault.logs.slice(from), ["POST /v1/pki/sign/hostnames 400"]);
    } finally {
      await issuer.close();
    }
  });
});
