/**
 * Auth, ACL, health and namespace fidelity of the Vault emulator, through the real node-vault client:
 * token errors (an invalid token's 403 as Vault ≥ 1.17 and < 1.17 word it, a policy denial's multierror
 * text), lookup-self, renew-self, revoke-self, AppRole login and user lockout, sys/health codes and
 * overrides, sealing, the KV preflight at sys/internal/ui/mounts, and namespace isolation (protocols.md §1b, §3).
 */
import assert from "node:assert/strict";
import { setTimeout as waitUntil } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { type Client, clientFor, ENVELOPE_KEYS, refusal, sortedKeys } from "./vault-test-helpers.js";
import { startVaultEmulator, type VaultEmulator } from "./vault/server.js";

const POLICY_DENIED = "1 error occurred:\n\t* permission denied\n\n";
/** vault/request_handling.go since hashicorp/vault#25953 (1.17): one multierror string of both messages. */
const INVALID_TOKEN = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";

let vault: VaultEmulator;
let root: Client;

before(async () => {
  vault = await startVaultEmulator({ rootToken: "root-auth", namespaces: ["team-a", "team-b/sub"] });
  root = clientFor(vault);
});
after(() => vault.stop());

describe("Vault emulator: tokens and policies", () => {
  it("refuses a missing or unknown token with 403 and one multierror string of permission denied + invalid token (Vault ≥ 1.17, docs/concepts/tokens.mdx § Error Responses)", async () => {
    for (const client of [clientFor(vault, null), clientFor(vault, "hvs.not-a-token")]) {
      const refused = await refusal(client.read("secret/data/anything"));
      assert.deepEqual(refused, { message: INVALID_TOKEN, status: 403, body: { errors: [INVALID_TOKEN] } });
    }
  });

  it("refuses an unknown token with a bare 403 permission denied when emulating Vault 1.16 (before hashicorp/vault#25953)", async () => {
    const old = await startVaultEmulator({ version: "1.16.3" });
    try {
      const refused = await refusal(clientFor(old, "hvs.not-a-token").read("secret/data/anything"));
      assert.deepEqual(refused, {
        message: "permission denied",
        status: 403,
        body: { errors: ["permission denied"] },
      });
      assert.equal((await clientFor(old, null).health()).version, "1.16.3");
      // A policy denial is worded the same in both versions.
      const token = old.createToken({ paths: [] });
      assert.deepEqual((await refusal(clientFor(old, token).read("secret/data/x"))).body, {
        errors: [POLICY_DENIED],
      });
    } finally {
      await old.stop();
    }
  });

  it("accepts the token as Authorization: Bearer as well as X-Vault-Token", async () => {
    const body = await clientFor(vault, null).request({
      path: "/auth/token/lookup-self",
      method: "GET",
      headers: { Authorization: `Bearer ${vault.rootToken}` },
    });
    assert.deepEqual(body.data.policies, ["root"]);
  });

  it("denies paths outside a token's rules with 403 and Vault's multierror text, and allows what the rules grant", async () => {
    const token = vault.createToken({
      paths: [
        { path: "secret/data/app/*", capabilities: ["read", "create", "update"] },
        { path: "secret/data/app/locked", capabilities: ["deny"] },
      ],
    });
    const client = clientFor(vault, token);
    await client.write("secret/data/app/one", { data: { a: "1" } });
    assert.deepEqual((await client.read("secret/data/app/one")).data.data, { a: "1" });
    const outside = await refusal(client.read("secret/data/other"));
    assert.deepEqual(outside, { message: POLICY_DENIED, status: 403, body: { errors: [POLICY_DENIED] } });
    assert.equal((await refusal(client.read("secret/data/app/locked"))).status, 403, "deny wins");
    assert.equal((await refusal(client.delete("secret/data/app/one"))).status, 403, "no delete capability");
    assert.equal((await refusal(client.list("secret/metadata/app"))).status, 403, "no list capability");
  });

  it("tells create from update: a token with update only may overwrite an existing key but not create one", async () => {
    await root.write("secret/data/cu/existing", { data: { a: "1" } });
    const client = clientFor(
      vault,
      vault.createToken({ paths: [{ path: "secret/data/cu/*", capabilities: ["update"] }] }),
    );
    await client.write("secret/data/cu/existing", { data: { a: "2" } });
    assert.equal((await refusal(client.write("secret/data/cu/new", { data: { a: "1" } }))).status, 403);
  });

  it("grants rules through named policies", async () => {
    vault.addPolicy("reader", [{ path: "secret/data/named/*", capabilities: ["read"] }]);
    await root.write("secret/data/named/x", { data: { a: "1" } });
    const client = clientFor(vault, vault.createToken({ policies: ["reader"] }));
    assert.deepEqual((await client.read("secret/data/named/x")).data.data, { a: "1" });
    assert.deepEqual((await client.tokenLookupSelf()).data.policies, ["default", "reader"]);
  });

  it("describes a root token in lookup-self: no TTL, no expiry, path auth/token/root", async () => {
    const body = await root.tokenLookupSelf();
    assert.deepEqual(sortedKeys(body), ENVELOPE_KEYS);
    assert.equal(body.mount_type, "token");
    const data = body.data;
    assert.equal(data.id, vault.rootToken);
    assert.deepEqual(data.policies, ["root"]);
    assert.equal(data.path, "auth/token/root");
    assert.equal(data.ttl, 0);
    assert.equal(data.creation_ttl, 0);
    assert.equal(data.expire_time, null);
    assert.equal(data.display_name, "root");
    assert.equal(data.type, "service");
    assert.equal(typeof data.creation_time, "number");
  });

  it("refuses renew-self for a root token with 400 lease not found or lease is not renewable", async () => {
    const refused = await refusal(root.tokenRenewSelf());
    assert.deepEqual(refused, {
      message: "lease not found or lease is not renewable",
      status: 400,
      body: { errors: ["lease not found or lease is not renewable"] },
    });
  });

  it("renews a renewable TTL token (auth block with the new lease) and refuses a non-renewable one", async () => {
    const client = clientFor(vault, vault.createToken({ ttlSeconds: 600 }));
    const looked = (await client.tokenLookupSelf()).data;
    assert.equal(looked.renewable, true);
    assert.equal(looked.creation_ttl, 600);
    assert.ok(looked.ttl > 590 && looked.ttl <= 600);
    assert.match(looked.expire_time, /Z$/);
    const renewed = await client.tokenRenewSelf({ increment: "1h" });
    assert.deepEqual(sortedKeys(renewed), ENVELOPE_KEYS);
    assert.equal(renewed.data, null);
    assert.equal(renewed.auth.lease_duration, 3600);
    assert.equal(renewed.auth.renewable, true);
    assert.equal(renewed.auth.token_type, "service");
    assert.equal(vault.counters.renewals >= 1, true);
    const fixed = clientFor(vault, vault.createToken({ ttlSeconds: 600, renewable: false }));
    assert.deepEqual((await refusal(fixed.tokenRenewSelf())).body, { errors: ["lease is not renewable"] });
  });

  it("stops accepting a token once its TTL has run out on the real clock", async () => {
    const client = clientFor(vault, vault.createToken({ ttlSeconds: 1 }));
    const expireTime = Date.parse((await client.tokenLookupSelf()).data.expire_time);
    // Wait for the token's own deadline, read from Vault, not for a guessed duration.
    await waitUntil(Math.max(0, expireTime - Date.now() + 5));
    const refused = await refusal(client.tokenLookupSelf());
    assert.deepEqual(refused.body, { errors: [INVALID_TOKEN] });
  });

  it("caps renew-self at the token's max TTL with Vault's warning, durations in Go's format (sdk/framework/lease.go CalculateTTL)", async () => {
    const client = clientFor(vault, vault.createToken({ ttlSeconds: 60, maxTtlSeconds: 600 }));
    const renewed = await client.tokenRenewSelf({ increment: "1h" });
    const left = renewed.auth.lease_duration;
    assert.ok(left > 590 && left <= 600, `capped to what is left of the max TTL, got ${left}`);
    const minutes = Math.floor(left / 60);
    assert.deepEqual(renewed.warnings, [
      `TTL of "1h0m0s" exceeded the effective max_ttl of "${minutes}m${left % 60}s"; TTL value is capped accordingly`,
    ]);
  });

  it("revokes the calling token on auth/token/revoke-self with 204, after which it is an invalid token", async () => {
    const token = vault.createToken({ ttlSeconds: 600 });
    const client = clientFor(vault, token);
    const before = vault.counters.revocations;
    assert.equal(await client.write("auth/token/revoke-self", {}), "", "204, empty body");
    assert.equal(vault.counters.revocations, before + 1);
    assert.deepEqual((await refusal(client.tokenLookupSelf())).body, { errors: [INVALID_TOKEN] });
  });
});

describe("Vault emulator: KV preflight (sys/internal/ui/mounts, as `vault kv` reads it)", () => {
  let withV1: VaultEmulator;
  before(async () => {
    withV1 = await startVaultEmulator({ kvVersion1Mounts: ["kv1"] });
  });
  after(() => withV1.stop());

  it("names the mount serving a path with its type and options.version (vault/logical_system.go pathInternalUIMountRead)", async () => {
    const root = clientFor(withV1);
    const v2 = await root.read("sys/internal/ui/mounts/secret/some/key");
    assert.deepEqual(sortedKeys(v2), ENVELOPE_KEYS);
    assert.equal(v2.data.path, "secret/");
    assert.equal(v2.data.type, "kv");
    assert.deepEqual(v2.data.options, { version: "2" });
    assert.match(v2.data.accessor, /^kv_[0-9a-f]{8}$/);
    const v1 = await root.read("sys/internal/ui/mounts/kv1");
    assert.deepEqual(v1.data.options, { version: "1" });
    assert.equal(v1.data.path, "kv1/");
    const pki = await root.read("sys/internal/ui/mounts/pki");
    assert.equal(pki.data.type, "pki");
    assert.equal(pki.data.options, null);
  });

  it("answers a token whose policies reach under the mount, and the same 403 for no access or no mount", async () => {
    const scoped = clientFor(
      withV1,
      withV1.createToken({ paths: [{ path: "secret/data/app/*", capabilities: ["read"] }] }),
    );
    assert.equal((await scoped.read("sys/internal/ui/mounts/secret")).data.path, "secret/");
    for (const path of ["kv1/x", "nowhere/x"]) {
      const refused = await refusal(scoped.read(`sys/internal/ui/mounts/${path}`));
      assert.deepEqual(refused.body, {
        errors: [
          `preflight capability check returned 403, please ensure client's policies grant access to path "${path}/"`,
        ],
      });
      assert.equal(refused.status, 403);
    }
    assert.deepEqual(
      (await refusal(clientFor(withV1, "hvs.bad").read("sys/internal/ui/mounts/secret"))).body,
      {
        errors: [INVALID_TOKEN],
      },
    );
  });

  it("serves KV v1 as Vault does: a v2-shaped write is stored verbatim under data/<key> with 204, a v2 read of another key is 404", async () => {
    const root = clientFor(withV1);
    assert.equal(await root.write("kv1/data/app", { data: { a: "1" }, options: { cas: 0 } }), "");
    const stored = await root.read("kv1/data/app");
    assert.deepEqual(stored.data, { data: { a: "1" }, options: { cas: 0 } }, "no versions, no metadata");
    assert.equal(stored.lease_duration, 768 * 3600);
    assert.deepEqual((await refusal(root.read("kv1/data/other"))).body, { errors: [] });
  });
});

describe("Vault emulator: AppRole", () => {
  before(() => {
    vault.addAppRole({
      roleName: "certrotor",
      roleId: "role-1",
      secretId: "secret-1",
      tokenTtlSeconds: 1200,
      policies: ["reader"],
    });
  });

  it("logs in with the auth block Vault returns and switches node-vault to the new token", async () => {
    const client = clientFor(vault, null);
    const body = await client.approleLogin({ role_id: "role-1", secret_id: "secret-1" });
    assert.deepEqual(sortedKeys(body), ENVELOPE_KEYS);
    assert.equal(body.lease_duration, 0);
    assert.equal(body.renewable, false);
    assert.equal(body.mount_type, "approle");
    assert.deepEqual(sortedKeys(body.auth), [
      "accessor",
      "client_token",
      "entity_id",
      "lease_duration",
      "metadata",
      "mfa_requirement",
      "num_uses",
      "orphan",
      "policies",
      "renewable",
      "token_policies",
      "token_type",
    ]);
    assert.equal(body.auth.lease_duration, 1200);
    assert.equal(body.auth.renewable, true);
    assert.deepEqual(body.auth.policies, ["default", "reader"]);
    assert.deepEqual(body.auth.metadata, { role_name: "certrotor" });
    assert.equal(client.token, body.auth.client_token);
    const self = (await client.tokenLookupSelf()).data;
    assert.equal(self.path, "auth/approle/login");
    assert.equal(self.display_name, "approle");
  });

  it("refuses a wrong secret id or role id with 400 invalid role or secret ID, and a missing role_id or secret_id with its own 400 (path_login.go)", async () => {
    const client = clientFor(vault, null);
    for (const creds of [
      { role_id: "role-1", secret_id: "wrong" },
      { role_id: "nope", secret_id: "secret-1" },
    ]) {
      const refused = await refusal(client.approleLogin(creds));
      assert.deepEqual(refused, {
        message: "invalid role or secret ID",
        status: 400,
        body: { errors: ["invalid role or secret ID"] },
      });
    }
    assert.deepEqual((await refusal(client.write("auth/approle/login", { secret_id: "secret-1" }))).body, {
      errors: ["missing role_id"],
    });
    assert.deepEqual((await refusal(client.write("auth/approle/login", { role_id: "role-1" }))).body, {
      errors: ["missing secret_id"],
    });
  });

  it("locks a role_id out after 5 wrong secret ids: 403 permission denied even with the right one (user lockout, on by default since 1.13)", async () => {
    vault.addAppRole({ roleName: "locked", roleId: "role-lock", secretId: "right", tokenTtlSeconds: 60 });
    const client = clientFor(vault, null);
    // A missing secret_id is its own 400 and does not count as a failed login.
    await refusal(client.write("auth/approle/login", { role_id: "role-lock" }));
    for (let i = 0; i < 5; i++) {
      const refused = await refusal(client.approleLogin({ role_id: "role-lock", secret_id: `wrong-${i}` }));
      assert.equal(refused.status, 400, `attempt ${i + 1} is still checked`);
    }
    const locked = await refusal(client.approleLogin({ role_id: "role-lock", secret_id: "right" }));
    assert.deepEqual(locked, {
      message: "permission denied",
      status: 403,
      body: { errors: ["permission denied"] },
    });
    assert.ok(vault.counters.lockedOut >= 1);
    // Another role_id is not affected.
    assert.ok((await clientFor(vault, null).approleLogin({ role_id: "role-1", secret_id: "secret-1" })).auth);
  });

  it("ends a lockout after lockout_duration, and a success resets the failure count", async () => {
    const quick = await startVaultEmulator({ lockout: { threshold: 2, durationSeconds: 1 } });
    try {
      quick.addAppRole({ roleName: "r", roleId: "rid", secretId: "sid", tokenTtlSeconds: 60 });
      const client = clientFor(quick, null);
      await refusal(client.approleLogin({ role_id: "rid", secret_id: "x" }));
      await client.approleLogin({ role_id: "rid", secret_id: "sid" }); // resets the count
      await refusal(client.approleLogin({ role_id: "rid", secret_id: "x" }));
      assert.ok((await clientFor(quick, null).approleLogin({ role_id: "rid", secret_id: "sid" })).auth);
      await refusal(client.approleLogin({ role_id: "rid", secret_id: "x" }));
      await refusal(client.approleLogin({ role_id: "rid", secret_id: "x" }));
      const lockedAt = Date.now();
      assert.equal((await refusal(client.approleLogin({ role_id: "rid", secret_id: "sid" }))).status, 403);
      // Wait for the lockout's own deadline (1 s from the locking failure), not a guessed duration.
      await waitUntil(Math.max(0, lockedAt + 1_000 - Date.now() + 20));
      assert.ok((await clientFor(quick, null).approleLogin({ role_id: "rid", secret_id: "sid" })).auth);
    } finally {
      await quick.stop();
    }
  });
});

describe("Vault emulator: sys/health and sealing", () => {
  it("answers health without a token, as the bare object (no envelope), and HEAD without a body", async () => {
    const anonymous = clientFor(vault, null);
    const body = await anonymous.health();
    assert.equal(body.data, undefined, "no envelope");
    assert.equal(body.initialized, true);
    assert.equal(body.sealed, false);
    assert.equal(body.standby, false);
    assert.equal(body.performance_standby, false);
    assert.equal(body.replication_performance_mode, "disabled");
    assert.equal(body.replication_dr_mode, "disabled");
    assert.equal(typeof body.server_time_utc, "number");
    assert.equal(typeof body.version, "string");
    assert.equal(typeof body.cluster_id, "string");
    assert.equal(await anonymous.request({ path: "/sys/health", method: "HEAD" }), "");
    assert.equal(vault.logs.at(-1), "HEAD /v1/sys/health 200");
  });

  it("answers 503 when sealed (node-vault resolves it), honours sealedcode, and refuses other requests with 503", async () => {
    vault.setSealed(true);
    try {
      const body = await root.health();
      assert.equal(body.sealed, true);
      assert.equal(vault.logs.at(-1), "GET /v1/sys/health 503");
      await root.health({ sealedcode: 200 });
      assert.equal(vault.logs.at(-1), "GET /v1/sys/health 200", "the query is not logged");
      const refused = await refusal(root.read("secret/data/x"));
      assert.deepEqual(refused, {
        message: "Vault is sealed",
        status: 503,
        body: { errors: ["Vault is sealed"] },
      });
    } finally {
      vault.setSealed(false);
    }
  });

  it("answers 429 on a standby unless standbyok, and takes activecode/standbycode overrides", async () => {
    vault.setStandby(true);
    try {
      await root.health();
      assert.equal(vault.logs.at(-1), "GET /v1/sys/health 429");
      await root.health({ standbyok: true });
      assert.equal(vault.logs.at(-1), "GET /v1/sys/health 200");
      await root.health({ standbycode: 299 });
      assert.equal(vault.logs.at(-1), "GET /v1/sys/health 299");
    } finally {
      vault.setStandby(false);
    }
    await root.health({ activecode: 204 });
    assert.equal(vault.logs.at(-1), "GET /v1/sys/health 204");
  });
});

describe("Vault emulator: namespaces", () => {
  it("keeps each namespace's KV apart, and the ns-prefixed path equals the X-Vault-Namespace header", async () => {
    const a = clientFor(vault, vault.rootToken, { namespace: "team-a" });
    const b = clientFor(vault, vault.rootToken, { namespace: "team-b/sub/" });
    await a.write("secret/data/shared-name", { data: { owner: "a" } });
    await b.write("secret/data/shared-name", { data: { owner: "b" } });
    assert.deepEqual((await a.read("secret/data/shared-name")).data.data, { owner: "a" });
    assert.deepEqual((await b.read("secret/data/shared-name")).data.data, { owner: "b" });
    assert.deepEqual((await root.read("team-a/secret/data/shared-name")).data.data, { owner: "a" });
    assert.deepEqual(
      (await refusal(root.read("secret/data/shared-name"))).body,
      { errors: [] },
      "root ns is apart",
    );
  });

  it("checks policies against the namespace-prefixed path", async () => {
    const token = vault.createToken({ paths: [{ path: "team-a/secret/data/*", capabilities: ["read"] }] });
    await clientFor(vault, vault.rootToken, { namespace: "team-a" }).write("secret/data/p", {
      data: { a: "1" },
    });
    await root.write("secret/data/p", { data: { a: "root" } });
    const inA = clientFor(vault, token, { namespace: "team-a" });
    assert.deepEqual((await inA.read("secret/data/p")).data.data, { a: "1" });
    assert.equal((await refusal(clientFor(vault, token).read("secret/data/p"))).status, 403);
  });
});
