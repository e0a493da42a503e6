/**
 * Error hygiene of the Vault store: every error it raises is provoked against the emulator, and the
 * error's message, hint, details, safe string and full inspection (stack and cause included), the
 * adapter's log lines and the emulator's request log are scanned for the secret values in play: private
 * key PEM bodies, PFX bytes and passphrase, client secret, Vault tokens (every one starts with `hvs.`)
 * and the AppRole secret id. None may appear.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { inspect } from "node:util";
import { storeSchema } from "../../src/config/schema.js";
import { type ErrorCode, isCertrotorError } from "../../src/errors.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { CredentialRef, Material, SecretStore } from "../../src/stores/types.js";
import { createVaultStore } from "../../src/stores/vault.js";
import { secretsOf } from "../contract/helpers.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { freePort } from "../harness/redis.js";
import { aMaterial, anAdmin } from "./vault-fixtures.js";
import { storePolicy, vaultStoreConfig } from "./vault-harness.js";

let vault: VaultEmulator;
const lines: object[] = [];
const logger = (line: object) => lines.push(line);
const stores: SecretStore[] = [];
const secretId = `sid-${randomUUID()}`;
let material: Material;
let other: Material;
const texts: Array<{ code: ErrorCode; text: string }> = [];

async function provoke(code: ErrorCode, promise: Promise<unknown>): Promise<void> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(isCertrotorError(caught), `expected a CertrotorError, got ${inspect(caught)}`);
  assert.equal(caught.code, code, caught.message);
  const text = [
    caught.message,
    caught.hint ?? "",
    JSON.stringify(caught.details),
    JSON.stringify(caught),
    caught.toSafeString(),
    inspect(caught, { depth: 10 }),
  ].join("\n");
  texts.push({ code, text });
}

async function open(name: string, config: object): Promise<SecretStore> {
  const parsed = storeSchema.parse({ kind: "vault", address: vault.url, ...config });
  if (parsed.kind !== "vault") throw new Error("expected a vault config");
  const store = await createVaultStore(name, parsed, { logger });
  stores.push(store);
  return store;
}

before(async () => {
  vault = await startVaultEmulator({ rootToken: `hvs.${randomUUID()}` });
  material = await aMaterial();
  other = await aMaterial();
  vault.addPolicy("store", storePolicy());
  vault.addAppRole({
    roleName: "certrotor",
    roleId: "role-certrotor",
    secretId,
    tokenTtlSeconds: 600,
    policies: ["store"],
  });
});
after(async () => {
  for (const store of stores) await store.close();
  await vault.stop();
});

describe("vault store: no secret in errors or logs", () => {
  it("raises each of its errors without a secret value in any of its text, its logs or Vault's request log", async () => {
    const admin = anAdmin(vault);
    const limitedToken = vault.createToken({ paths: storePolicy() });
    const store = await open("hygiene", { auth: { method: "token", token: limitedToken } });
    const ref = (path: string): CredentialRef => ({ credentialId: path, path: `hygiene/${path}` });
    const seed = (r: CredentialRef, doc: Record<string, unknown>) =>
      admin.write(`secret/data/${r.path}`, { data: doc });

    await provoke("NOT_FOUND", store.readCurrent(ref("missing")));

    const live = ref("live");
    await seed(live, encodeMaterial(material));
    const v1 = (await store.readCurrent(live)).version;
    const r1 = randomUUID();
    await provoke("NOT_FOUND", store.promote(live, r1, v1));
    await store.writePending(live, r1, { ...other, rotationId: r1 });
    await provoke(
      "PENDING_CONFLICT",
      store.writePending(live, randomUUID(), { ...material, rotationId: "x" }),
    );
    await seed(live, encodeMaterial(material));
    await provoke("CAS_CONFLICT", store.promote(live, r1, v1));

    const { keyPem: _key, ...noKey } = material;
    const broken = ref("broken");
    await seed(broken, encodeMaterial(noKey as Material));
    await provoke("MATERIAL_INVALID", store.readCurrent(broken));
    await seed(broken, { ...encodeMaterial(material), fingerprint: { not: "a string" } });
    await provoke("MATERIAL_INVALID", store.readCurrent(broken));

    const denied = await open("denied", {
      auth: { method: "token", token: vault.createToken({ paths: [] }) },
    });
    await provoke("ACCESS_DENIED", denied.readCurrent(live));
    const invalid = await open("invalid", { auth: { method: "token", token: `hvs.${randomUUID()}` } });
    await provoke("ACCESS_DENIED", invalid.writePending(live, randomUUID(), material));
    const wrongRole = await open("wrong-role", {
      auth: { method: "approle", roleId: "role-certrotor", secretId: `${secretId}-wrong` },
    });
    await provoke("ACCESS_DENIED", wrongRole.readCurrent(live));
    const approle = await open("approle", {
      auth: { method: "approle", roleId: "role-certrotor", secretId },
    });
    await approle.readCurrent(live);
    vault.revokeAllTokens();
    vault.setFaults({ failNext: 50 });
    await provoke("STORE_UNAVAILABLE", approle.readCurrent(live));
    vault.setFaults({});

    const down = await open("down", {
      address: `http://127.0.0.1:${await freePort()}`,
      auth: { method: "token", token: vault.rootToken },
    });
    await provoke("STORE_UNAVAILABLE", down.readCurrent(live));
    const noMount = await createVaultStore(
      "no-mount",
      vaultStoreConfig(vault, vault.rootToken, { mount: "nope" }),
      { logger },
    );
    stores.push(noMount);
    await provoke("CONFIG_INVALID", noMount.writePending(live, randomUUID(), material));

    const secrets = [...secretsOf(material, other), secretId, limitedToken, vault.rootToken, "hvs."];
    const provoked = new Set(texts.map((t) => t.code));
    assert.deepEqual([...provoked].sort(), [
      "ACCESS_DENIED",
      "CAS_CONFLICT",
      "CONFIG_INVALID",
      "MATERIAL_INVALID",
      "NOT_FOUND",
      "PENDING_CONFLICT",
      "STORE_UNAVAILABLE",
    ]);
    assert.ok(lines.length > 0, "the adapter logged (retries, logins)");
    const haystacks = [
      ...texts.map(({ code, text }) => ({ where: `${code} error`, text })),
      { where: "adapter log", text: lines.map((l) => JSON.stringify(l)).join("\n") },
      { where: "emulator log", text: vault.logs.join("\n") },
    ];
    for (const { where, text } of haystacks) {
      for (const secret of secrets) {
        assert.equal(
          text.includes(secret),
          false,
          `${where} carries a secret value (${secret.slice(0, 4)}…)`,
        );
      }
    }
  });
});
