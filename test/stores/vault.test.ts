/**
 * The Vault KV v2 store beyond the shared contract, through the real node-vault client against the
 * wire-level emulator: previous-version rules, list walking and paging, unmanaged keys of any JSON type,
 * namespaces, TLS trust, retries through injected faults, failing fast when Vault is unreachable, and the
 * KV mount missing. AppRole renewal and error hygiene live in vault-approle.test.ts and vault-secrets.test.ts.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type nodeVault from "node-vault";
import { encodeMaterial } from "../../src/stores/material.js";
import type { CredentialRef, SecretStore } from "../../src/stores/types.js";
import { createVaultStore } from "../../src/stores/vault.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { freePort } from "../harness/redis.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { aMaterial, anAdmin, testCa } from "./vault-fixtures.js";
import { vaultStoreConfig } from "./vault-harness.js";

let vault: VaultEmulator;
let admin: ReturnType<typeof nodeVault>;
let store: SecretStore;
let dir: string;
const ref = (path: string): CredentialRef => ({ credentialId: path.replaceAll("/", "_"), path });

before(async () => {
  vault = await startVaultEmulator({ namespaces: ["tenant-1"] });
  admin = anAdmin(vault);
  store = await createVaultStore("main", vaultStoreConfig(vault, vault.rootToken));
  dir = await mkdtemp(join(tmpdir(), "certrotor-vault-"));
  await testCa();
});
after(async () => {
  await store.close();
  await vault.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("vault store: versions", () => {
  it("reads previous as the newest readable version before current, skipping deleted and destroyed ones", async () => {
    const r = ref(`prev/${randomUUID()}`);
    const [m1, m2, m3] = [await aMaterial(), await aMaterial(), await aMaterial()];
    for (const m of [m1, m2, m3]) await admin.write(`secret/data/${r.path}`, { data: encodeMaterial(m) });
    assert.deepEqual((await store.readPrevious(r))?.material, m2);
    await admin.write(`secret/delete/${r.path}`, { versions: [2] });
    assert.deepEqual((await store.readPrevious(r))?.material, m1);
    assert.equal((await store.readPrevious(r))?.version, "1");
    await admin.destroySecretVersions({ path: r.path, versions: [1] });
    assert.equal(await store.readPrevious(r), null);
    assert.equal(await store.readPrevious(ref(`prev/${randomUUID()}`)), null, "no secret, no previous");
  });

  it("answers no previous when the versions before current were pruned by max_versions", async () => {
    const r = ref(`pruned/${randomUUID()}`);
    await admin.write(`secret/metadata/${r.path}`, { max_versions: 2 });
    for (let i = 0; i < 4; i++)
      await admin.write(`secret/data/${r.path}`, { data: encodeMaterial(await aMaterial()) });
    assert.equal((await store.readPrevious(r))?.version, "3");
    await admin.write(`secret/delete/${r.path}`, { versions: [3] });
    assert.equal(await store.readPrevious(r), null);
  });

  it("keeps unmanaged keys of any JSON type through a rotation", async () => {
    const r = ref(`extra/${randomUUID()}`);
    const extra = { replicas: 3, labels: { team: "payments" }, enabled: true, note: "kept" };
    await admin.write(`secret/data/${r.path}`, { data: { ...encodeMaterial(await aMaterial()), ...extra } });
    const current = await store.readCurrent(r);
    assert.deepEqual(current.extra, extra);
    const rotationId = randomUUID();
    const next = { ...(await aMaterial()), rotationId };
    await store.writePending(r, rotationId, next);
    await store.promote(r, rotationId, current.version);
    const raw = await admin.read(`secret/data/${r.path}`);
    assert.deepEqual(raw.data.data, { ...encodeMaterial(next), ...extra });
    assert.deepEqual(
      (await admin.read(`secret/data/${r.path}.pending`).catch((e) => e.response)).statusCode,
      404,
    );
  });

  it("keeps the pending key beside current under the configured suffix", async () => {
    const custom = await createVaultStore(
      "suffix",
      vaultStoreConfig(vault, vault.rootToken, { pendingSuffix: "__next" }),
    );
    try {
      const r = ref(`suffix/${randomUUID()}`);
      await admin.write(`secret/data/${r.path}`, { data: encodeMaterial(await aMaterial()) });
      const rotationId = randomUUID();
      await custom.writePending(r, rotationId, { ...(await aMaterial()), rotationId });
      const staged = await admin.read(`secret/data/${r.path}__next`);
      assert.equal(staged.data.data.rotationId, rotationId);
      assert.deepEqual((await custom.list({ prefix: "suffix/" })).paths, [r.path]);
    } finally {
      await custom.close();
    }
  });
});

describe("vault store: list", () => {
  it("walks sub-folders, skips pending siblings, matches a partial-name prefix and pages with a cursor", async () => {
    const base = `walk-${randomUUID().slice(0, 8)}`;
    const m = encodeMaterial(await aMaterial());
    const paths = [`${base}/a/x`, `${base}/a/b/y`, `${base}/a/b/c/z`, `${base}/a/bb`, `${base}/ab/q`];
    for (const path of paths) await admin.write(`secret/data/${path}`, { data: m });
    const rotationId = randomUUID();
    await store.writePending(ref(`${base}/a/x`), rotationId, { ...(await aMaterial()), rotationId });

    const all = async (prefix: string, pageSize: number): Promise<string[]> => {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ prefix, pageSize, ...(cursor ? { cursor } : {}) });
        assert.ok(page.paths.length <= pageSize);
        out.push(...page.paths);
        cursor = page.next;
      } while (cursor);
      return out;
    };
    assert.deepEqual(await all(`${base}/a/`, 1), [
      `${base}/a/b/c/z`,
      `${base}/a/b/y`,
      `${base}/a/bb`,
      `${base}/a/x`,
    ]);
    assert.deepEqual(await all(`${base}/a/b`, 10), [`${base}/a/b/c/z`, `${base}/a/b/y`, `${base}/a/bb`]);
    assert.deepEqual(await all(`${base}/nothing/`, 10), []);
    await expectCode(store.list({ prefix: base, cursor: "%%%" }), "BAD_ARGUMENT");
  });
});

describe("vault store: connection", () => {
  it("reads and writes only inside its namespace", async () => {
    const scoped = await createVaultStore(
      "tenant",
      vaultStoreConfig(vault, vault.rootToken, { namespace: "tenant-1" }),
    );
    try {
      const r = ref(`ns/${randomUUID()}`);
      const m = await aMaterial();
      await anAdmin(vault, "tenant-1").write(`secret/data/${r.path}`, { data: encodeMaterial(m) });
      assert.deepEqual((await scoped.readCurrent(r)).material, m);
      await expectCode(store.readCurrent(r), "NOT_FOUND");
    } finally {
      await scoped.close();
    }
  });

  it("trusts Vault's TLS certificate through caFile, and without it refuses at once even with VAULT_SKIP_VERIFY set", async () => {
    const tlsVault = await startVaultEmulator({ tls: true });
    const caFile = join(dir, "vault-ca.pem");
    await writeFile(caFile, tlsVault.pkiCaPem);
    const r = ref(`tls/${randomUUID()}`);
    const m = await aMaterial();
    await anAdmin(tlsVault, undefined, { requestOptions: { ca: tlsVault.pkiCaPem } }).write(
      `secret/data/${r.path}`,
      {
        data: encodeMaterial(m),
      },
    );
    const trusted = await createVaultStore("tls", vaultStoreConfig(tlsVault, tlsVault.rootToken, { caFile }));
    const lines: object[] = [];
    process.env.VAULT_SKIP_VERIFY = "1";
    const untrusted = await createVaultStore(
      "tls-untrusted",
      vaultStoreConfig(tlsVault, tlsVault.rootToken),
      {
        logger: (line) => lines.push(line),
      },
    );
    try {
      assert.ok(tlsVault.url.startsWith("https://"));
      assert.deepEqual((await trusted.readCurrent(r)).material, m);
      const refused = await expectCode(untrusted.readCurrent(r), "STORE_UNAVAILABLE");
      assert.equal((refused as { retryable?: boolean }).retryable, false, "a trust failure is not retried");
      assert.match(refused.message, /self.signed|certificate|CERT/i);
      assert.match((refused as { hint?: string }).hint ?? "", /caFile/);
      assert.equal(lines.length, 0, "no retry was logged");
    } finally {
      delete process.env.VAULT_SKIP_VERIFY;
      await trusted.close();
      await untrusted.close();
      await tlsVault.stop();
    }
  });

  it("rides out 20% of requests answered 5xx, plus dropped connections, through whole rotations", async () => {
    const lines: object[] = [];
    const faulty = await createVaultStore("faulty", vaultStoreConfig(vault, vault.rootToken), {
      logger: (l) => lines.push(l),
    });
    const r = ref(`faults/${randomUUID()}`);
    const m1 = await aMaterial();
    await admin.write(`secret/data/${r.path}`, { data: encodeMaterial(m1) });
    vault.setFaults({ seed: 5, failRate: 0.2, dropRate: 0.03, dropAfterRate: 0.03 });
    try {
      for (let round = 0; round < 5; round++) {
        const current = await faulty.readCurrent(r);
        const rotationId = randomUUID();
        const next = { ...(await aMaterial()), rotationId };
        await faulty.writePending(r, rotationId, next);
        assert.deepEqual((await faulty.promote(r, rotationId, current.version)).material, next);
        assert.equal(await faulty.readPending(r), null);
      }
    } finally {
      vault.setFaults({});
      await faulty.close();
    }
    assert.ok(vault.counters.faultsFailed + vault.counters.faultsDropped > 0, "faults were injected");
    assert.ok(lines.some((l) => (l as { msg?: string }).msg === "vault request retried"));
    assert.equal((await store.readCurrent(r)).version, "6", "each rotation added exactly one version");
  });

  it("fails with STORE_UNAVAILABLE after a few bounded retries when every answer is a 5xx", async () => {
    const lines: object[] = [];
    const s = await createVaultStore("sealed", vaultStoreConfig(vault, vault.rootToken), {
      logger: (l) => lines.push(l),
    });
    vault.setSealed(true);
    try {
      const error = await expectCode(s.readCurrent(ref("sealed/x")), "STORE_UNAVAILABLE");
      assert.match(error.message, /503 \(Vault is sealed\)/);
      assert.equal((error as { retryable?: boolean }).retryable, true);
      assert.equal((error as { details?: Record<string, unknown> }).details?.attempts, 5);
      assert.equal(lines.length, 4, "four retries logged");
    } finally {
      vault.setSealed(false);
      await s.close();
    }
  });

  it("fails fast with STORE_UNAVAILABLE naming the refused connection when nothing listens at the address", async () => {
    const port = await freePort();
    const parsed = vaultStoreConfig(vault, "hvs.unused", {});
    const s = await createVaultStore("down", { ...parsed, address: `http://127.0.0.1:${port}` });
    try {
      const error = await expectCode(s.readCurrent(ref("down/x")), "STORE_UNAVAILABLE");
      assert.match(error.message, /ECONNREFUSED/);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.equal((error as { details?: Record<string, unknown> }).details?.attempts, 5);
    } finally {
      await s.close();
    }
  });

  it("gives up on a Vault slower than requestTimeout with STORE_UNAVAILABLE naming the timeout", async () => {
    const s = await createVaultStore(
      "slow",
      vaultStoreConfig(vault, vault.rootToken, { requestTimeout: 50 }),
    );
    vault.setFaults({ latencyMs: 400 });
    try {
      const error = await expectCode(s.readCurrent(ref("slow/x")), "STORE_UNAVAILABLE");
      assert.match(error.message, /timeout of 50ms exceeded/);
    } finally {
      vault.setFaults({});
      await s.close();
    }
  });

  it("names the mount when no KV v2 engine is mounted there (CONFIG_INVALID)", async () => {
    const s = await createVaultStore(
      "nomount",
      vaultStoreConfig(vault, vault.rootToken, { mount: "kv-missing" }),
    );
    try {
      const error = await expectCode(s.readCurrent(ref("x")), "CONFIG_INVALID");
      assert.match(error.message, /no handler for route/);
      assert.match((error as { hint?: string }).hint ?? "", /kv-missing/);
    } finally {
      await s.close();
    }
  });
});
