/**
 * The Vault emulator driven by hvac (Debian python3-hvac), a client nobody here wrote, and every answer
 * checked against Vault's documented behaviour — its source and docs, cited per case — not against
 * certrotor's adapters. One run on the emulated Vault 1.17.6 and one on 1.16.3 (the 403 of an invalid token
 * changed in between: hashicorp/vault#25953).
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createCsr, generateKeyPair } from "../../src/crypto/index.js";
import { pythonDriver } from "./clients/run.js";
import { startVaultEmulator, type VaultEmulator } from "./vault/server.js";

type Outcome<T = Record<string, unknown>> = { ok: T } | { error: string; errors: string[] | null };
type Report = Record<string, Outcome & Outcome[]>;

const LONG_LABEL = "a".repeat(64);
const LONG_CN = `${LONG_LABEL}.bank.example`;

function ok<T = Record<string, unknown>>(outcome: Outcome | undefined, what: string): T {
  assert.ok(outcome && "ok" in outcome, `${what}: expected success, got ${JSON.stringify(outcome)}`);
  return outcome.ok as T;
}

function refused(outcome: Outcome | undefined, what: string): { error: string; errors: string[] | null } {
  assert.ok(outcome && "error" in outcome, `${what}: expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome;
}

async function driveWithHvac(version: string): Promise<{ vault: VaultEmulator; report: Report }> {
  const vault = await startVaultEmulator({ version, kvVersion1Mounts: ["kv1"] });
  vault.addAppRole({ roleName: "app", roleId: "role-app", secretId: "secret-app", tokenTtlSeconds: 600 });
  vault.addAppRole({ roleName: "lock", roleId: "role-lock", secretId: "secret-lock", tokenTtlSeconds: 600 });
  const { keyPem } = await generateKeyPair("p256");
  const csrs = {
    long: await createCsr({ keyPem, subject: `CN=${LONG_CN}` }),
    org: await createCsr({ keyPem, subject: "CN=Org Exemplo Ltda,O=Org Exemplo Ltda,C=BR" }),
    underscore: await createCsr({ keyPem, subject: "CN=client_app_01" }),
  };
  // A driver that fails (hvac missing) must not leave the emulator holding the test process open.
  const report = await pythonDriver<Report>("vault_hvac.py", {
    url: vault.url,
    rootToken: vault.rootToken,
    noRulesToken: vault.createToken({ paths: [] }),
    cappedToken: vault.createToken({ ttlSeconds: 60, maxTtlSeconds: 600 }),
    approle: {
      roleId: "role-app",
      secretId: "secret-app",
      lockRoleId: "role-lock",
      lockSecretId: "secret-lock",
    },
    csrs,
    longCn: LONG_CN,
  }).catch(async (error: unknown) => {
    await vault.stop();
    throw error;
  });
  return { vault, report };
}

describe("Vault emulator through hvac, checked against Vault's documented behaviour (1.17.6)", () => {
  let vault: VaultEmulator;
  let report: Report;
  before(async () => {
    ({ vault, report } = await driveWithHvac("1.17.6"));
  });
  after(() => vault?.stop());

  it("KV v2 (api-docs/secret/kv/kv-v2.mdx): version on write, CAS mismatch text, deletion_time '' and 404s", () => {
    assert.equal(ok<{ data: { version: number } }>(report.kv_create, "create").data.version, 1);
    assert.deepEqual(refused(report.kv_cas_again, "cas"), {
      error: "InvalidRequest",
      errors: ["check-and-set parameter did not match the current version"],
    });
    const read = ok<{ data: { data: unknown; metadata: Record<string, unknown> } }>(report.kv_read, "read");
    assert.deepEqual(read.data.data, { a: "1" });
    assert.equal(read.data.metadata.deletion_time, "");
    assert.equal(read.data.metadata.destroyed, false);
    assert.equal(ok(report.kv_delete, "delete"), 204);
    // A deleted version answers 404 with an envelope, not an errors array (path_data.go RespondWithStatusCode).
    assert.deepEqual(refused(report.kv_read_deleted, "deleted"), { error: "InvalidPath", errors: null });
    assert.deepEqual(refused(report.kv_read_missing, "missing"), { error: "InvalidPath", errors: [] });
  });

  it("KV v1 (api-docs/secret/kv/kv-v1.mdx) and the preflight `vault kv` makes (logical_system.go pathInternalUIMountRead)", () => {
    assert.equal(ok(report.kv1_write, "kv1 write"), 204);
    const read = ok<{ data: unknown; lease_duration: number }>(report.kv1_read, "kv1 read");
    assert.deepEqual(read.data, { a: "1" });
    assert.equal(read.lease_duration, 2_764_800, "768h, the mount's default lease");
    assert.deepEqual(ok<{ data: { options: unknown } }>(report.ui_mounts_secret, "secret").data.options, {
      version: "2",
    });
    assert.deepEqual(ok<{ data: { options: unknown } }>(report.ui_mounts_kv1, "kv1").data.options, {
      version: "1",
    });
    assert.deepEqual(refused(report.ui_mounts_nowhere, "nowhere"), {
      error: "Forbidden",
      errors: [
        `preflight capability check returned 403, please ensure client's policies grant access to path "nowhere/"`,
      ],
    });
  });

  it("an invalid token is 403 with one multierror string of both messages, a policy denial a multierror of one (docs/concepts/tokens.mdx § Error Responses, hashicorp/vault#25953)", () => {
    assert.deepEqual(refused(report.invalid_token, "invalid"), {
      error: "Forbidden",
      errors: ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"],
    });
    assert.deepEqual(refused(report.policy_denied, "denied"), {
      error: "Forbidden",
      errors: ["1 error occurred:\n\t* permission denied\n\n"],
    });
  });

  it("renew-self past the max TTL is capped with CalculateTTL's warning (sdk/framework/lease.go), revoke-self answers 204 and ends the token", () => {
    const renewed = ok<{ auth: { lease_duration: number }; warnings: string[] }>(
      report.renew_capped,
      "renew",
    );
    const left = renewed.auth.lease_duration;
    assert.ok(left > 590 && left <= 600);
    assert.deepEqual(renewed.warnings, [
      `TTL of "1h0m0s" exceeded the effective max_ttl of "${Math.floor(left / 60)}m${left % 60}s"; TTL value is capped accordingly`,
    ]);
    assert.equal(ok(report.revoke_self, "revoke"), 204);
    assert.equal(refused(report.after_revoke, "after revoke").error, "Forbidden");
  });

  it("AppRole login (path_login.go): a token, 'missing secret_id', and user lockout after 5 failures (partials/user-lockout.mdx)", () => {
    const login = ok<{ auth: Record<string, unknown> }>(report.approle_login, "login");
    assert.equal(login.auth.renewable, true);
    assert.equal(login.auth.lease_duration, 600);
    assert.deepEqual(refused(report.approle_missing_secret, "missing"), {
      error: "InvalidRequest",
      errors: ["missing secret_id"],
    });
    const wrong = report.approle_wrong as unknown as Outcome[];
    assert.deepEqual(
      wrong.map((outcome) => refused(outcome, "wrong")),
      Array(5).fill({ error: "InvalidRequest", errors: ["invalid role or secret ID"] }),
    );
    assert.deepEqual(refused(report.approle_locked, "locked"), {
      error: "Forbidden",
      errors: ["permission denied"],
    });
  });

  it("PKI sign (issuing/issue_common.go): idna's error for a label over 63 unless exclude_cn_from_sans, non-hostname CNs signed without a DNS SAN, enforce_hostnames refuses them, the TTL cap warning", () => {
    assert.deepEqual(refused(report.sign_long_label, "long"), {
      error: "InvalidRequest",
      errors: [`idna: invalid label "${LONG_LABEL}"`],
    });
    for (const key of ["sign_long_label_excluded", "sign_org_name", "sign_underscore"]) {
      const cert = new X509Certificate(
        ok<{ data: { certificate: string } }>(report[key], key).data.certificate,
      );
      assert.equal(cert.subjectAltName, undefined, `${key}: no SAN`);
    }
    assert.deepEqual(refused(report.sign_org_name_strict, "strict"), {
      error: "InvalidRequest",
      errors: ["common name Org Exemplo Ltda not allowed by this role"],
    });
    assert.deepEqual(ok<{ warnings: string[] }>(report.sign_ttl_capped, "ttl").warnings, [
      'TTL "2000h0m0s" is longer than permitted maxTTL "720h0m0s", so maxTTL is being used',
    ]);
  });

  it("sys/health (api-docs/system/health.mdx) reports the emulated version", () => {
    const health = ok<{ version: string; sealed: boolean; initialized: boolean }>(report.health, "health");
    assert.deepEqual([health.version, health.sealed, health.initialized], ["1.17.6", false, true]);
  });
});

describe("Vault emulator through hvac, as Vault 1.16.3", () => {
  let vault: VaultEmulator;
  let report: Report;
  before(async () => {
    ({ vault, report } = await driveWithHvac("1.16.3"));
  });
  after(() => vault?.stop());

  it("answers an invalid token with a bare 403 permission denied (before hashicorp/vault#25953), a policy denial as before", () => {
    assert.deepEqual(refused(report.invalid_token, "invalid"), {
      error: "Forbidden",
      errors: ["permission denied"],
    });
    assert.deepEqual(refused(report.policy_denied, "denied"), {
      error: "Forbidden",
      errors: ["1 error occurred:\n\t* permission denied\n\n"],
    });
    assert.equal(ok<{ version: string }>(report.health, "health").version, "1.16.3");
  });
});
