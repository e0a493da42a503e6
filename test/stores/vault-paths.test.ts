/**
 * A Vault path with a `.`/`..` segment or a control character never reaches Vault: the adapter refuses
 * it (the check shared with the file store and the config, src/util/secret-path.ts) before any request,
 * so `../../sys/seal` cannot be resolved by an HTTP client into Vault's `sys/seal` route.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isCertrotorError } from "../../src/errors.js";
import type { SecretStore } from "../../src/stores/types.js";
import { createVaultStore } from "../../src/stores/vault.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { aMaterial } from "./vault-fixtures.js";
import { vaultStoreConfig } from "./vault-harness.js";

describe("vault store paths", () => {
  let vault: VaultEmulator;
  let store: SecretStore;
  before(async () => {
    vault = await startVaultEmulator();
    store = await createVaultStore("main", vaultStoreConfig(vault, vault.rootToken));
  });
  after(async () => {
    await store.close();
    await vault.stop();
  });

  it("refuses '..', '.' and control characters before sending anything, for reads, writes and deletes", async () => {
    const material = await aMaterial();
    const before = vault.counters.requests;
    for (const path of ["../../sys/seal", "certrotor/../../../sys/seal", "a/./b", "a\nb", "a\u0000b"]) {
      const ref = { credentialId: "x", path };
      for (const call of [
        () => store.readCurrent(ref),
        () => store.readPending(ref),
        () => store.writePending(ref, "rot_1", material),
        () => store.dropPending(ref),
        () => store.readPrevious(ref),
      ]) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(isCertrotorError(error, "BAD_ARGUMENT"), String(error));
          assert.match(
            error.message,
            /^vault path ".*" is not allowed: it (has a '\.' or '\.\.' segment|holds control characters)$/,
          );
          return true;
        });
      }
    }
    assert.equal(vault.counters.requests, before, "not one request reached Vault");
    assert.ok(!vault.logs.some((line) => line.includes("/sys/seal")));
  });

  it("still reads and lists ordinary paths (the mount's root folder included)", async () => {
    const ref = { credentialId: "ok", path: "certrotor/ok.v1" };
    await assert.rejects(store.readCurrent(ref), (error: unknown) => isCertrotorError(error, "NOT_FOUND"));
    assert.deepEqual((await store.list({})).paths, []);
  });
});
