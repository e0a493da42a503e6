/**
 * AppRole auth of the Vault store against the emulator: login on first use, renewal at 2/3 of the token
 * TTL (the test waits on the emulator's renewal counter, not on a clock), a fresh login when renewal is
 * refused or Vault revoked the token (both 403 shapes: Vault 1.17's "invalid token" and the bare
 * "permission denied" before it), ACCESS_DENIED for bad credentials, a lockout or a policy denial, login
 * backoff (no request while backing off; delays doubling to a bound), and revoke-self on close.
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

describe("vault store: AppRole login backoff, user lockout, both 403 shapes of an invalid token, revoke-self", () => {
  it("does not log in again at once after a refused login: the next call fails fast with the same error, without a request", async () => {
    const role = aRole(600);
    const wrong = randomUUID();
    const store = await createVaultStore("approle-backoff", approleConfig(role.roleId, wrong), {
      loginBackoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    try {
      const attempts = vault.counters.loginAttempts;
      const first = await expectCode(store.readCurrent(ref), "ACCESS_DENIED", [wrong, role.roleId]);
      assert.match(first.message, /invalid role or secret ID/);
      const second = await expectCode(store.readCurrent(ref), "ACCESS_DENIED", [wrong, role.roleId]);
      assert.match(second.message, /1 failed login in a row; the next attempt is in \d+ s\)$/);
      assert.equal(vault.counters.loginAttempts, attempts + 1, "one login request for two calls");
    } finally {
      await store.close();
    }
  });

  it("backs off exponentially up to its bound while the re-login keeps failing in the background", async () => {
    // A 1 s token that cannot be renewed forces a re-login; meanwhile the role's secret id is rotated, so the
    // configured one no longer works.
    const role = aRole(1, 1);
    const lines: Array<{ msg?: string; backoffMs?: number; retryInMs?: number }> = [];
    const store = await createVaultStore("approle-doubling", approleConfig(role.roleId, role.secretId), {
      logger: (line) => lines.push(line),
      loginBackoff: { baseMs: 40, maxMs: 160 },
    });
    const attemptsAt: number[] = [];
    const onAttempt = () => attemptsAt.push(Date.now());
    vault.events.on("login-attempt", onAttempt);
    try {
      const start = vault.counters.loginAttempts;
      await store.readCurrent(ref);
      vault.addAppRole({
        roleName: "rotated",
        roleId: role.roleId,
        secretId: randomUUID(),
        tokenTtlSeconds: 1,
        policies: ["certrotor-store"],
      });
      // The seventh failed attempt has reached Vault, so the first six have been logged by the store.
      await vault.waitFor("loginAttempts", start + 8);
      const failed = lines.filter((line) => line.msg === "vault approle login failed").slice(0, 6);
      assert.deepEqual(
        failed.map((line) => line.backoffMs),
        [40, 80, 160, 160, 160, 160],
        "doubling from the base, never past the bound",
      );
      for (const line of failed) {
        assert.ok(
          line.retryInMs! >= line.backoffMs! / 2 && line.retryInMs! <= line.backoffMs!,
          "jittered to 50–100 %",
        );
      }
      // attemptsAt[0] is the first (good) login; the failures follow, each at least its delay after the last.
      for (let i = 1; i < failed.length; i++) {
        const gap = attemptsAt[i + 1]! - attemptsAt[i]!;
        assert.ok(gap >= failed[i - 1]!.retryInMs! - 2, `attempt ${i + 1} came ${gap} ms after the last`);
      }
    } finally {
      vault.events.off("login-attempt", onAttempt);
      await store.close();
    }
  });

  it("reports a locked-out role_id (Vault's user lockout: 403 at login) as ACCESS_DENIED naming the lockout", async () => {
    const strict = await startVaultEmulator({ lockout: { threshold: 1 } });
    strict.addPolicy("certrotor-store", storePolicy());
    const ids = { roleId: randomUUID(), secretId: randomUUID() };
    strict.addAppRole({ roleName: "strict", ...ids, tokenTtlSeconds: 600, policies: ["certrotor-store"] });
    const config = (secretId: string) => ({ ...approleConfig(ids.roleId, secretId), address: strict.url });
    const wrong = await createVaultStore("approle-wrong-once", config(randomUUID()));
    const right = await createVaultStore("approle-locked", config(ids.secretId));
    try {
      await expectCode(wrong.readCurrent(ref), "ACCESS_DENIED");
      const locked = await expectCode(right.readCurrent(ref), "ACCESS_DENIED", [ids.secretId, ids.roleId]);
      assert.match(locked.message, /auth\/approle\/login was refused \(403\): permission denied/);
      assert.match((locked as { hint?: string }).hint ?? "", /user lockout/);
      assert.equal(strict.counters.lockedOut, 1);
    } finally {
      await wrong.close();
      await right.close();
      await strict.stop();
    }
  });

  it("logs in again when a Vault before 1.17 answers a revoked token with a bare permission denied, and tells a policy denial apart", async () => {
    const old = await startVaultEmulator({ version: "1.16.3" });
    old.addPolicy("certrotor-store", storePolicy());
    await anAdmin(old).write(`secret/data/${ref.path}`, { data: encodeMaterial(await aMaterial()) });
    const granted = { roleId: randomUUID(), secretId: randomUUID() };
    const bare = { roleId: randomUUID(), secretId: randomUUID() };
    old.addAppRole({ roleName: "granted", ...granted, tokenTtlSeconds: 600, policies: ["certrotor-store"] });
    old.addAppRole({ roleName: "bare", ...bare, tokenTtlSeconds: 600, policies: [] });
    const at = (ids: typeof granted) => ({ ...approleConfig(ids.roleId, ids.secretId), address: old.url });
    const store = await createVaultStore("approle-1.16", at(granted));
    const denied = await createVaultStore("approle-1.16-denied", at(bare));
    try {
      await store.readCurrent(ref);
      const logins = old.counters.logins;
      old.revokeAllTokens();
      const from = old.logs.length;
      assert.ok((await store.readCurrent(ref)).material.certPem.includes("BEGIN CERTIFICATE"));
      assert.equal(old.counters.logins, logins + 1, "one fresh login");
      assert.deepEqual(old.logs.slice(from), [
        "GET /v1/secret/data/approle/cred 403",
        "POST /v1/auth/token/renew-self 403", // the bare 403 is checked: the token itself is refused
        "POST /v1/auth/approle/login 200",
        "GET /v1/secret/data/approle/cred 200",
      ]);

      const error = await expectCode(denied.readCurrent(ref), "ACCESS_DENIED", [bare.secretId]);
      assert.match(error.message, /was refused \(403\): permission denied$/);
      assert.match((error as { hint?: string }).hint ?? "", /policy/);
      assert.equal(old.counters.logins, logins + 2, "the policy denial cost no second login");
      assert.ok(
        old.logs.includes("POST /v1/auth/token/renew-self 200"),
        "the token renewed: a policy denial",
      );
    } finally {
      await store.close();
      await denied.close();
      await old.stop();
    }
  });

  it("revokes the token it logged in for when it closes, and never a configured token", async () => {
    const role = aRole(600);
    const store = await createVaultStore("approle-revoke", approleConfig(role.roleId, role.secretId));
    await store.readCurrent(ref);
    const revocations = vault.counters.revocations;
    await store.close();
    assert.equal(vault.counters.revocations, revocations + 1);
    assert.equal(vault.logs.at(-1), "POST /v1/auth/token/revoke-self 204");

    const token = vault.createToken({ ttlSeconds: 600, paths: storePolicy() });
    const configured = await createVaultStore("token-kept", {
      ...approleConfig(role.roleId, role.secretId),
      auth: { method: "token", token },
    });
    await configured.readCurrent(ref);
    await configured.close();
    assert.equal(vault.counters.revocations, revocations + 1, "no revoke-self for a configured token");
    assert.ok(
      (await anAdmin(vault, undefined, { token }).tokenLookupSelf()).data.id,
      "the token still works",
    );
  });
});
