/**
 * infra/vault/certrotor-policy.hcl is least privilege, checked through the real adapters: the Vault store
 * (with `pendingPrefix: certrotor-pending/`, the layout the policy is written for) and the Vault PKI issuer
 * run every call they make (the KV v2 preflight, discovery with a tag, read, stage, re-stage, promote,
 * previous, drop, sign, CA) against the Vault emulator's ACL with a token holding exactly the policy's
 * rules, and nothing is refused; taking away any single capability makes that same run fail with
 * ACCESS_DENIED; and the policy grants `delete` on pending keys only, never on a current credential.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { storeSchema, issuerSchema, type VaultStoreConfig } from "../../src/config/schema.js";
import { createCsr, generateKeyPair, inspectCertificate } from "../../src/crypto/index.js";
import { isCertrotorError } from "../../src/errors.js";
import { createVaultPkiIssuer } from "../../src/issuers/vault-pki.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { Material } from "../../src/stores/types.js";
import { createVaultStore } from "../../src/stores/vault.js";
import { type Capability, startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { type PolicyRule, parseVaultPolicy, repoFile } from "./parse.js";

const POLICY = parseVaultPolicy(repoFile("infra/vault/certrotor-policy.hcl"));
const ROLE = "certrotor-client";
const PENDING_PREFIX = "certrotor-pending/";
const TAG = { key: "certrotor", value: "managed" };

let vault: VaultEmulator;
let ca: Awaited<ReturnType<typeof aCa>>;
let runs = 0;

async function root(method: string, path: string, body: object): Promise<void> {
  const response = await fetch(`${vault.url}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": vault.rootToken, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `root ${method} ${path}: ${response.status}`);
}

async function material(): Promise<Material> {
  const cert = await aClientCert({ ca });
  return {
    clientId: "acme",
    clientSecret: "s3cret-value",
    certPem: cert.certPem,
    chainPem: ca.certPem,
    keyPem: cert.keyPem,
    fingerprint: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
  };
}

/** Everything the Vault store and issuer do in a rotation's life, on a fresh credential, with `rules`. */
async function exercise(rules: PolicyRule[]): Promise<void> {
  const path = `certrotor/acme-${++runs}`;
  await root("POST", `secret/data/${path}`, { data: encodeMaterial(await material()) });
  await root("POST", `secret/metadata/${path}`, { custom_metadata: { [TAG.key]: TAG.value } });
  const token = vault.createToken({
    paths: rules.map((rule) => ({ path: rule.path, capabilities: rule.capabilities as Capability[] })),
  });
  const connection = { address: vault.url, auth: { method: "token", token } };
  const store = await createVaultStore(
    "policy",
    storeSchema.parse({ kind: "vault", ...connection, pendingPrefix: PENDING_PREFIX }) as VaultStoreConfig,
  );
  const pki = issuerSchema.parse({ kind: "vault-pki", ...connection, role: ROLE });
  const issuer = await createVaultPkiIssuer("policy", pki as Extract<typeof pki, { kind: "vault-pki" }>);
  try {
    const ref = { credentialId: "acme", path };
    const listed = await store.list({ prefix: "certrotor/", tag: TAG });
    assert.ok(listed.paths.includes(path), "discovery finds the tagged credential");
    const current = await store.readCurrent(ref);
    await issuer.trustBundle();
    const { keyPem } = await generateKeyPair("p256");
    const csrPem = await createCsr({ keyPem, subject: "CN=acme,O=certrotor tests,C=BR" });
    const issued = await issuer.issue({
      csrPem,
      rotationId: `r${runs}`,
      credentialId: "acme",
      now: new Date(),
    });
    const info = inspectCertificate(issued.certPem);
    const next: Material = {
      ...current.material,
      certPem: issued.certPem,
      chainPem: issued.chainPem,
      keyPem,
      fingerprint: info.fingerprint,
      notAfter: info.notAfter.toISOString(),
    };
    await store.writePending(ref, `r${runs}`, { ...next, clientSecret: "first-staging" });
    await store.writePending(ref, `r${runs}`, next); // the same rotation stages again: an update of the pending key
    assert.equal((await store.readPending(ref))?.rotationId, `r${runs}`);
    await store.promote(ref, `r${runs}`, current.version);
    assert.equal((await store.readPrevious(ref))?.material.fingerprint, current.material.fingerprint);
    await store.writePending(ref, `r${runs}-again`, await material());
    await store.dropPending(ref, `r${runs}-again`);
    assert.equal(await store.readPending(ref), null);
  } finally {
    await store.close();
    await issuer.close();
  }
}

/** The rules with one capability taken away from one path. */
function without(path: string, capability: string): PolicyRule[] {
  return POLICY.map((rule) =>
    rule.path === path ? { ...rule, capabilities: rule.capabilities.filter((c) => c !== capability) } : rule,
  );
}

describe("the Vault policy (infra/vault/certrotor-policy.hcl)", () => {
  before(async () => {
    vault = await startVaultEmulator();
    ca = await aCa();
    await root("POST", `pki/roles/${ROLE}`, {
      allow_any_name: true,
      key_type: "any",
      client_flag: true,
      server_flag: false,
      ttl: "720h",
      max_ttl: "2160h",
    });
  });
  after(() => vault.stop());

  it("grants exactly the KV v2 data and metadata prefixes, the pending prefix, the PKI sign role and CA, and token renewal and revocation", () => {
    assert.deepEqual(
      POLICY.map((rule) => `${rule.path} ${rule.capabilities.slice().sort().join(",")}`),
      [
        "secret/data/certrotor/* read,update",
        "secret/metadata/certrotor/* list,read",
        `secret/data/${PENDING_PREFIX}* create,read,update`,
        `secret/metadata/${PENDING_PREFIX}* delete`,
        `pki/sign/${ROLE} update`,
        "pki/cert/ca read",
        "auth/token/renew-self update",
        "auth/token/revoke-self update",
      ],
    );
  });

  it("grants delete only on pending keys: a token with the policy can neither delete nor create a credential", async () => {
    const path = `certrotor/acme-guard-${++runs}`;
    await root("POST", `secret/data/${path}`, { data: encodeMaterial(await material()) });
    const token = vault.createToken({
      paths: POLICY.map((rule) => ({ path: rule.path, capabilities: rule.capabilities as Capability[] })),
    });
    const asWorker = (method: string, route: string, body?: object) =>
      fetch(`${vault.url}/v1/${route}`, {
        method,
        headers: { "X-Vault-Token": token, "Content-Type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const refused = [
      await asWorker("DELETE", `secret/metadata/${path}`),
      await asWorker("DELETE", `secret/data/${path}`),
      await asWorker("POST", `secret/destroy/${path}`, { versions: [1] }),
      await asWorker("POST", `secret/delete/${path}`, { versions: [1] }),
      await asWorker("POST", `secret/data/certrotor/new-${runs}`, { data: { a: "1" } }),
    ];
    assert.deepEqual(
      refused.map((response) => response.status),
      [403, 403, 403, 403, 403],
    );
    assert.equal((await asWorker("DELETE", `secret/metadata/${PENDING_PREFIX}${path}`)).status, 204);
    assert.equal((await asWorker("GET", `secret/data/${path}`)).status, 200, "the credential is untouched");
  });

  it("lets the Vault store and the Vault PKI issuer make every call of a rotation, refusing none", async () => {
    const from = vault.logs.length;
    await exercise(POLICY);
    const calls = vault.logs.slice(from);
    assert.ok(calls.some((line) => line.startsWith("LIST ")));
    assert.ok(calls.includes("GET /v1/sys/internal/ui/mounts/secret 200"), "the KV v2 preflight");
    const deletes = calls.filter((line) => line.startsWith("DELETE "));
    assert.ok(deletes.length > 0);
    assert.ok(
      deletes.every((line) => line.startsWith(`DELETE /v1/secret/metadata/${PENDING_PREFIX}`)),
      "the store deletes pending keys only",
    );
    assert.deepEqual(
      calls.filter((line) => / 403$/.test(line)),
      [],
    );
  });

  it("is needed whole: without any one KV or PKI capability the same run is refused", async () => {
    const checked = POLICY.filter((rule) => rule.path.startsWith("secret/") || rule.path.includes("/sign/"));
    let variants = 0;
    for (const rule of checked) {
      for (const capability of rule.capabilities) {
        variants++;
        await assert.rejects(
          exercise(without(rule.path, capability)),
          (error: unknown) => isCertrotorError(error, "ACCESS_DENIED"),
          `${rule.path} without ${capability}`,
        );
      }
    }
    assert.equal(variants, 9);
  });

  it("covers the paths Vault does not check with a token because the adapters call them: CA read, renew-self and revoke-self", () => {
    // Vault serves pki/cert/ca unauthenticated and grants renew-self and revoke-self in its default policy,
    // so the emulator cannot show them refused; the adapters' sources show they are called.
    assert.match(repoFile("src/issuers/vault-pki.ts"), /`\$\{config\.mount\}\/cert\/ca`/);
    assert.match(repoFile("src/issuers/vault-pki.ts"), /`\$\{config\.mount\}\/sign\/\$\{config\.role\}`/);
    assert.match(repoFile("src/stores/vault-auth.ts"), /"auth\/token\/renew-self"/);
    assert.match(repoFile("src/stores/vault-auth.ts"), /"auth\/token\/revoke-self"/);
    assert.doesNotMatch(repoFile("src/stores/vault-auth.ts"), /lookup-self/);
  });
});
