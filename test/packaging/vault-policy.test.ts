/**
 * infra/vault/certrotor-policy.hcl is least privilege, checked through the real adapters: the Vault store
 * and the Vault PKI issuer run every call they make (discovery with a tag, read, stage, promote, previous,
 * drop, sign, CA) against the Vault emulator's ACL with a token holding exactly the policy's rules, and
 * nothing is refused; taking away any single capability makes that same run fail with ACCESS_DENIED.
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
    storeSchema.parse({ kind: "vault", ...connection }) as VaultStoreConfig,
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
    await store.writePending(ref, `r${runs}`, next);
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

  it("grants exactly the KV v2 data and metadata prefix, the PKI sign role and CA, and token renewal", () => {
    assert.deepEqual(
      POLICY.map((rule) => `${rule.path} ${rule.capabilities.slice().sort().join(",")}`),
      [
        "secret/data/certrotor/* create,read,update",
        "secret/metadata/certrotor/* delete,list,read",
        `pki/sign/${ROLE} update`,
        "pki/cert/ca read",
        "auth/token/renew-self update",
      ],
    );
  });

  it("lets the Vault store and the Vault PKI issuer make every call of a rotation, refusing none", async () => {
    const from = vault.logs.length;
    await exercise(POLICY);
    const calls = vault.logs.slice(from);
    assert.ok(calls.some((line) => line.startsWith("LIST ")));
    assert.ok(calls.some((line) => line.startsWith("DELETE ")));
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
    assert.equal(variants, 7);
  });

  it("covers the paths Vault does not check with a token because the adapters call them: CA read and renew-self", () => {
    // Vault serves pki/cert/ca unauthenticated and grants renew-self in its default policy, so the
    // emulator cannot show them refused; the adapters' sources show they are called.
    assert.match(repoFile("src/issuers/vault-pki.ts"), /`\$\{config\.mount\}\/cert\/ca`/);
    assert.match(repoFile("src/issuers/vault-pki.ts"), /`\$\{config\.mount\}\/sign\/\$\{config\.role\}`/);
    assert.match(repoFile("src/stores/vault-auth.ts"), /"auth\/token\/renew-self"/);
    assert.doesNotMatch(repoFile("src/stores/vault-auth.ts"), /lookup-self/);
  });
});
