/**
 * KV v2 fidelity of the Vault emulator, through the real node-vault client: the bodies and status codes
 * hashicorp/vault-plugin-secrets-kv produces (path_data.go, path_metadata.go, path_delete.go,
 * path_destroy.go, backend.go) and node-vault's view of them (protocols.md §1, §1a, §1c, §7).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type Client,
  clientFor,
  ENVELOPE_KEYS,
  RFC3339_NANO,
  refusal,
  sortedKeys,
  UUID,
} from "./vault-test-helpers.js";
import { startVaultEmulator, type VaultEmulator } from "./vault/server.js";

const CAS_MISMATCH = "check-and-set parameter did not match the current version";

let vault: VaultEmulator;
let client: Client;
let n = 0;
const key = (): string => `kv-test/k${++n}`;

before(async () => {
  vault = await startVaultEmulator({ rootToken: "root-kv" });
  client = clientFor(vault);
});
after(() => vault.stop());

describe("Vault emulator: KV v2 data", () => {
  it("answers a write with the version metadata directly under data, inside the full envelope", async () => {
    const body = await client.write(`secret/data/${key()}`, { data: { a: "1" } });
    assert.deepEqual(sortedKeys(body), ENVELOPE_KEYS);
    assert.match(body.request_id, UUID);
    assert.equal(body.lease_id, "");
    assert.equal(body.lease_duration, 0);
    assert.equal(body.renewable, false);
    assert.equal(body.wrap_info, null);
    assert.equal(body.warnings, null);
    assert.equal(body.auth, null);
    assert.equal(body.mount_type, "kv");
    assert.deepEqual(sortedKeys(body.data), [
      "created_time",
      "custom_metadata",
      "deletion_time",
      "destroyed",
      "version",
    ]);
    assert.equal(body.data.version, 1);
    assert.match(body.data.created_time, RFC3339_NANO);
    assert.equal(body.data.deletion_time, "", "deletion_time is the empty string, never null");
    assert.equal(body.data.destroyed, false);
    assert.equal(body.data.custom_metadata, null);
  });

  it("reads the latest version as data.data plus data.metadata, and an older one with ?version=N", async () => {
    const path = key();
    await client.write(`secret/data/${path}`, { data: { v: "one", nested: { x: 1 } } });
    await client.write(`secret/data/${path}`, { data: { v: "two" } });
    const latest = await client.read(`secret/data/${path}`);
    assert.deepEqual(sortedKeys(latest), ENVELOPE_KEYS);
    assert.deepEqual(latest.data.data, { v: "two" });
    assert.deepEqual(sortedKeys(latest.data.metadata), [
      "created_time",
      "custom_metadata",
      "deletion_time",
      "destroyed",
      "version",
    ]);
    assert.equal(latest.data.metadata.version, 2);
    const first = await client.read(`secret/data/${path}?version=1`);
    assert.deepEqual(first.data.data, { v: "one", nested: { x: 1 } });
    assert.equal(first.data.metadata.version, 1);
    assert.deepEqual(
      (await client.read(`secret/data/${path}?version=0`)).data.data,
      { v: "two" },
      "0 = latest",
    );
  });

  it("answers 404 with an empty errors array for a missing secret and for a version never written", async () => {
    const missing = await refusal(client.read(`secret/data/${key()}`));
    assert.deepEqual(missing, { message: "Status 404", status: 404, body: { errors: [] } });
    const path = key();
    await client.write(`secret/data/${path}`, { data: { a: "1" } });
    const noVersion = await refusal(client.read(`secret/data/${path}?version=7`));
    assert.deepEqual(noVersion, { message: "Status 404", status: 404, body: { errors: [] } });
  });

  it("applies check-and-set: cas 0 only creates, a stale cas is refused with Vault's exact text, a numeric string counts", async () => {
    const path = key();
    const created = await client.write(`secret/data/${path}`, { data: { a: "1" }, options: { cas: 0 } });
    assert.equal(created.data.version, 1);
    const again = await refusal(
      client.write(`secret/data/${path}`, { data: { a: "2" }, options: { cas: 0 } }),
    );
    assert.deepEqual(again, { message: CAS_MISMATCH, status: 400, body: { errors: [CAS_MISMATCH] } });
    const stale = await refusal(
      client.write(`secret/data/${path}`, { data: { a: "2" }, options: { cas: 5 } }),
    );
    assert.equal(stale.message, CAS_MISMATCH);
    const weak = await client.write(`secret/data/${path}`, { data: { a: "2" }, options: { cas: "1" } });
    assert.equal(weak.data.version, 2);
    const garbage = await refusal(
      client.write(`secret/data/${path}`, { data: { a: "3" }, options: { cas: "two" } }),
    );
    assert.deepEqual(garbage.body, { errors: ["error parsing check-and-set parameter"] });
    assert.equal(
      (await client.read(`secret/data/${path}`)).data.metadata.version,
      2,
      "refused writes add no version",
    );
  });

  it("demands options.cas when cas_required is set on the key, and counts a deleted latest version as current", async () => {
    const path = key();
    await client.write(`secret/data/${path}`, { data: { a: "1" } });
    await client.write(`secret/metadata/${path}`, { cas_required: true });
    const without = await refusal(client.write(`secret/data/${path}`, { data: { a: "2" } }));
    assert.deepEqual(without.body, { errors: ["check-and-set parameter required for this call"] });
    await client.delete(`secret/data/${path}`);
    const afterDelete = await client.write(`secret/data/${path}`, { data: { a: "2" }, options: { cas: 1 } });
    assert.equal(afterDelete.data.version, 2);
  });

  it("refuses a write without data with 400 no data provided", async () => {
    const refused = await refusal(client.write(`secret/data/${key()}`, { options: { cas: 0 } }));
    assert.deepEqual(refused, {
      message: "no data provided",
      status: 400,
      body: { errors: ["no data provided"] },
    });
  });

  it("soft-deletes with 204, then answers 404 whose body is a full envelope with data null and the deletion time", async () => {
    const path = key();
    await client.write(`secret/data/${path}`, { data: { a: "1" } });
    assert.equal(await client.delete(`secret/data/${path}`), "", "204: node-vault resolves the empty body");
    assert.equal(vault.logs.at(-1), `DELETE /v1/secret/data/${path} 204`);
    const deleted = await refusal(client.read(`secret/data/${path}`));
    assert.equal(deleted.status, 404);
    assert.equal(deleted.message, "Status 404", "the body has no errors array");
    const body = deleted.body as Record<string, { data: unknown; metadata: Record<string, unknown> }>;
    assert.deepEqual(sortedKeys(body), ENVELOPE_KEYS);
    assert.equal(body.data!.data, null);
    assert.equal(body.data!.metadata.version, 1);
    assert.match(String(body.data!.metadata.deletion_time), RFC3339_NANO);
    assert.equal(body.data!.metadata.destroyed, false);
  });

  it("undeletes and destroys listed versions (204), skipping unknown ones, and refuses an empty list", async () => {
    const path = key();
    await client.write(`secret/data/${path}`, { data: { v: "1" } });
    await client.write(`secret/data/${path}`, { data: { v: "2" } });
    assert.equal(await client.write(`secret/delete/${path}`, { versions: [1, 2, 99] }), "");
    assert.equal((await refusal(client.read(`secret/data/${path}?version=1`))).status, 404);
    assert.equal(await client.write(`secret/undelete/${path}`, { versions: [1] }), "");
    assert.deepEqual((await client.read(`secret/data/${path}?version=1`)).data.data, { v: "1" });
    assert.equal(await client.destroySecretVersions({ path, versions: [1] }), "");
    const destroyed = await refusal(client.read(`secret/data/${path}?version=1`));
    const metadata = (destroyed.body as { data: { metadata: Record<string, unknown> } }).data.metadata;
    assert.equal(metadata.destroyed, true);
    assert.equal(metadata.deletion_time, "");
    await client.write(`secret/undelete/${path}`, { versions: [1] });
    assert.equal(
      (await refusal(client.read(`secret/data/${path}?version=1`))).status,
      404,
      "destroyed stays gone",
    );
    const emptyDelete = await refusal(client.write(`secret/delete/${path}`, { versions: [] }));
    assert.deepEqual(emptyDelete.body, { errors: ["No version number provided"] });
    const emptyDestroy = await refusal(client.write(`secret/destroy/${path}`, { versions: [] }));
    assert.deepEqual(emptyDestroy.body, { errors: ["no version number provided"] });
    assert.equal(
      await client.write(`secret/delete/${key()}`, { versions: [1] }),
      "",
      "a missing key is 204 too",
    );
  });

  it("merges a PATCH into a new version (null removes a key) and answers 404 for a missing key", async () => {
    const path = key();
    await client.write(`secret/data/${path}`, { data: { keep: "k", drop: "d", change: "old" } });
    const patched = await client.update(`secret/data/${path}`, {
      data: { drop: null, change: "new", add: "a" },
    });
    assert.equal(patched.data.version, 2);
    assert.deepEqual((await client.read(`secret/data/${path}`)).data.data, {
      keep: "k",
      change: "new",
      add: "a",
    });
    assert.equal((await refusal(client.update(`secret/data/${key()}`, { data: { a: "1" } }))).status, 404);
  });
});
