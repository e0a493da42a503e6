/**
 * AppRole auth of the Vault store against the emulator: login on first use, renewal at 2/3 of the token
 * TTL (the test waits on the emulator's renewal counter, not on a clock), a fresh login when renewal is
 * refused or Vault revoked the token, and ACCESS_DENIED for bad credentials or a policy denial.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { storeSchema, type VaultStoreConfig } from "../../src/config/schema.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { CredentialRef } from "../../src/stores/types.js";
import { createVaultStore } from "../../src/stores/vault.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { aMaterial, anAdmin } from "./vault-fixtures.js";
import { storePolicy } from "./vault-harness.js";

let vault: VaultEmulator;
const ref: CredentialRef = { credentialId: "approle-cred", path: "approle/cred" };

function approleConfig(roleId: string, secretId: string): VaultStoreConfig {
  const parsed = storeSchema.parse({
    kind: "vault",
    address: vault.url,
    auth: { method: "approle", roleId, secretId },
  });
  if (parsed.kind !== "vault") throw new Error("expected a vault store config");
  return parsed;
}

function aRole(
  ttlSeconds: number,
  maxTtlSeconds?: number,
  policies = ["certrotor-store"],
): { roleId: string; secretId: string } {
  const ids = { roleId: randomUUID(), secretId: randomUUID() };
  vault.addAppRole({
    roleName: `certrotor-${ids.roleId.slice(0, 4)}`,
    ...ids,
    tokenTtlSeconds: ttlSeconds,
    policies,
    ...(maxTtlSeconds ? { tokenMaxTtlSeconds: maxTtlSeconds } : {}),
  });
  return ids;
}

before(async () => {
  vault = await startVaultEmulator();
  vault.addPolicy("certrotor-store", storePolicy());
  await anAdmin(vault).write(`secret/data/${ref.path}`, { data: encodeMaterial(await aMaterial()) });
});
after(() => vault.stop());

describe("vault store: AppRole", () => {
  it("logs in on first use, renews the token at 2/3 of its TTL, and keeps working past the first TTL", async () => {
    const role = aRole(3);
    const lines: Array<{ msg?: string }> = [];
    const store = await createVaultStore("approle", approleConfig(role.roleId, role.secretId), {
      logger: (line) => lines.push(line),
    });
    try {
      const logins = vault.counters.logins;
      await store.readCurrent(ref);
      assert.equal(vault.counters.logins, logins + 1);
      // Two renewals of a 3 s token happen ~2 s and ~4 s after login: past the first token's TTL.
      await vault.waitFor("renewals", vault.counters.renewals + 2);
      await store.readCurrent(ref);
      assert.equal(vault.counters.logins, logins + 1, "renewed, not logged in again");
      assert.ok(lines.some((l) => l.msg === "vault approle login"));
      assert.equal(lines.filter((l) => l.msg === "vault token renewed").length >= 2, true);
    } finally {
      await store.close();
    }
  });

  it("logs in again when Vault refuses to renew the token (its max TTL is reached)", async () => {
    const role = aRole(2, 2);
    const store = await createVaultStore("approle-max", approleConfig(role.roleId, role.secretId));
    try {
      const logins = vault.counters.logins;
      await store.readCurrent(ref);
      await vault.waitFor("logins", logins + 2);
      await store.readCurrent(ref);
    } finally {
      await store.close();
    }
  });

  it("replaces a token Vault revoked with a fresh login, and the call that met the revocation succeeds", async () => {
    const role = aRole(600);
    const store = await createVaultStore("approle-revoked", approleConfig(role.roleId, role.secretId));
    try {
      await store.readCurrent(ref);
      const logins = vault.counters.logins;
      vault.revokeAllTokens();
      assert.ok((await store.readCurrent(ref)).material.certPem.includes("BEGIN CERTIFICATE"));
      assert.equal(vault.counters.logins, logins + 1);
    } finally {
      await store.close();
    }
  });

  it("fails with ACCESS_DENIED naming the login path when the secret id is wrong", async () => {
    const role = aRole(600);
    const wrongSecret = randomUUID();
    const store = await createVaultStore("approle-wrong", approleConfig(role.roleId, wrongSecret));
    try {
      const error = await expectCode(store.readCurrent(ref), "ACCESS_DENIED", [wrongSecret, role.roleId]);
      assert.match(error.message, /auth\/approle\/login was refused \(400\): invalid role or secret ID/);
    } finally {
      await store.close();
    }
  });

  it("fails with ACCESS_DENIED carrying Vault's permission denied when the role's policy does not cover the path", async () => {
    const role = aRole(600, undefined, []);
    const store = await createVaultStore("approle-policy", approleConfig(role.roleId, role.secretId));
    try {
      const error = await expectCode(store.readCurrent(ref), "ACCESS_DENIED", [role.secretId]);
      assert.match(error.message, /GET secret\/data\/approle\/cred was refused \(403\): permission denied$/);
      assert.match((error as { hint?: string }).hint ?? "", /policy/);
    } finally {
      await store.close();
    }
  });
});
