/**
 * Where the Vault store keeps things and what it refuses to use: pending material under `pendingPrefix`
 * (and never listed as a credential, in either layout), a credential path inside that prefix refused, and a
 * KV version 1 mount (or an engine that is not KV) refused with CONFIG_INVALID before anything is written,
 * found by the preflight `vault kv` itself makes (sys/internal/ui/mounts).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type nodeVault from "node-vault";
import { encodeMaterial } from "../../src/stores/material.js";
import type { CredentialRef } from "../../src/stores/types.js";
import { createVaultStore } from "../../src/stores/vault.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { aMaterial, anAdmin } from "./vault-fixtures.js";
import { vaultStoreConfig } from "./vault-harness.js";

let vault: VaultEmulator;
let admin: ReturnType<typeof nodeVault>;
const ref = (path: string): CredentialRef => ({ credentialId: path.replaceAll("/", "_"), path });

before(async () => {
  vault = await startVaultEmulator({ kvVersion1Mounts: ["kv1"] });
  admin = anAdmin(vault);
});
after(() => vault.stop());

describe("vault store: pendingPrefix", () => {
  it("stages at <pendingPrefix><path>, promotes from there, deletes only there, and lists no pending", async () => {
    const store = await createVaultStore(
      "prefixed",
      vaultStoreConfig(vault, vault.rootToken, { pendingPrefix: "certrotor-pending/" }),
    );
    try {
      const base = `layout-${randomUUID().slice(0, 8)}`;
      const r = ref(`${base}/acme`);
      await admin.write(`secret/data/${r.path}`, { data: encodeMaterial(await aMaterial()) });
      // A sibling pending left by the suffix layout is not a credential either.
      await admin.write(`secret/data/${r.path}.pending`, { data: encodeMaterial(await aMaterial()) });
      const current = await store.readCurrent(r);
      const rotationId = randomUUID();
      const next = { ...(await aMaterial()), rotationId };
      await store.writePending(r, rotationId, next);
      const staged = await admin.read(`secret/data/certrotor-pending/${r.path}`);
      assert.equal(staged.data.data.rotationId, rotationId);
      assert.deepEqual((await store.readPending(r))?.material, next);
      assert.deepEqual((await store.list({ prefix: `${base}/` })).paths, [r.path]);
      assert.deepEqual(
        (await store.list({ prefix: "" })).paths.filter((p) => p.includes(base)),
        [r.path],
      );
      const from = vault.logs.length;
      await store.promote(r, rotationId, current.version);
      assert.deepEqual(
        vault.logs.slice(from).filter((line) => line.startsWith("DELETE")),
        [`DELETE /v1/secret/metadata/certrotor-pending/${r.path} 204`],
      );
      assert.deepEqual((await store.readCurrent(r)).material, next);
      assert.equal(await store.readPending(r), null);
    } finally {
      await store.close();
    }
  });

  it("refuses a credential whose path lies inside the pending prefix with CONFIG_INVALID, touching nothing", async () => {
    const store = await createVaultStore(
      "prefixed-bad",
      vaultStoreConfig(vault, vault.rootToken, { pendingPrefix: "certrotor-pending/" }),
    );
    try {
      const from = vault.logs.length;
      const error = await expectCode(store.readCurrent(ref("certrotor-pending/acme")), "CONFIG_INVALID");
      assert.match(error.message, /inside pendingPrefix "certrotor-pending\/"/);
      assert.equal(vault.logs.length, from, "no request");
    } finally {
      await store.close();
    }
  });
});

describe("vault store: the mount must be KV version 2", () => {
  it("refuses a KV version 1 mount with CONFIG_INVALID before any KV call, so nothing is written there", async () => {
    const store = await createVaultStore(
      "kv-one",
      vaultStoreConfig(vault, vault.rootToken, { mount: "kv1" }),
    );
    try {
      const from = vault.logs.length;
      const rotationId = randomUUID();
      const staged = { ...(await aMaterial()), rotationId };
      const calls = [
        () => store.readCurrent(ref("app")),
        () => store.writePending(ref("app"), rotationId, staged),
        () => store.list({ prefix: "" }),
      ];
      for (const call of calls) {
        const error = await expectCode(call(), "CONFIG_INVALID");
        assert.match(error.message, /the mount "kv1" is KV version 1; certrotor needs KV version 2/);
        assert.match((error as { hint?: string }).hint ?? "", /vault kv enable-versioning kv1\//);
        assert.equal((error as { retryable?: boolean }).retryable, false);
      }
      assert.deepEqual(
        vault.logs.slice(from),
        ["GET /v1/sys/internal/ui/mounts/kv1 200"],
        "asked once, wrote nothing",
      );
      assert.deepEqual(
        await admin.list("kv1/").catch((e: { response?: { statusCode?: number } }) => e.response?.statusCode),
        404,
      );
    } finally {
      await store.close();
    }
  });

  it("refuses an engine that is not KV, and a folder inside a KV mount given as the mount", async () => {
    for (const [mount, text] of [
      ["pki", /the mount "pki" is a "pki" secrets engine, not KV version 2/],
      ["secret/certrotor", /the mount "secret\/certrotor" is a folder inside the KV mount "secret\/"/],
    ] as const) {
      const store = await createVaultStore(
        `wrong-${mount}`,
        vaultStoreConfig(vault, vault.rootToken, { mount }),
      );
      try {
        const error = await expectCode(store.readCurrent(ref("app")), "CONFIG_INVALID");
        assert.match(error.message, text);
      } finally {
        await store.close();
      }
    }
  });

  it("goes ahead when the preflight is refused (a token without any rule under the mount), and the KV call reports the denial", async () => {
    const token = vault.createToken({ paths: [] });
    const store = await createVaultStore("no-rules", vaultStoreConfig(vault, token));
    try {
      const error = await expectCode(store.readCurrent(ref("app")), "ACCESS_DENIED");
      assert.match(error.message, /GET secret\/data\/app was refused \(403\)/);
    } finally {
      await store.close();
    }
  });
});
