/**
 * KV v2 versions, metadata, listing and invalid paths in the Vault emulator, through the real node-vault
 * client (path_metadata.go, KeyMetadata.AddVersion, backend.go pathInvalid, vault/router.go; protocols.md
 * §1a, §7). Data reads and writes are in vault-kv.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, clientFor, ENVELOPE_KEYS, refusal, sortedKeys } from "./vault-test-helpers.js";
import { startVaultEmulator, type VaultEmulator } from "./vault/server.js";

let vault: VaultEmulator;
let client: Client;
let n = 0;
const key = (): string => `kv-meta-test/k${++n}`;

before(async () => {
  vault = await startVaultEmulator({ rootToken: "root-kv-meta" });
  client = clientFor(vault);
});
after(() => vault.stop());

describe("Vault emulator: KV v2 versions and metadata", () => {
  it("keeps 10 versions by default, pruning the oldest (then 404 errors []) and advancing oldest_version", async () => {
    const path = key();
    for (let i = 1; i <= 12; i++) await client.write(`secret/data/${path}`, { data: { i: String(i) } });
    const meta = await client.read(`secret/metadata/${path}`);
    assert.equal(meta.data.current_version, 12);
    assert.equal(meta.data.oldest_version, 3);
    assert.deepEqual(
      Object.keys(meta.data.versions).sort((a, b) => Number(a) - Number(b)),
      ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12"],
    );
    assert.deepEqual((await refusal(client.read(`secret/data/${path}?version=2`))).body, { errors: [] });
    assert.deepEqual((await client.read(`secret/data/${path}?version=3`)).data.data, { i: "3" });
  });

  it("takes the larger of the key's and the engine's max_versions", async () => {
    const path = key();
    await client.write(`secret/metadata/${path}`, { max_versions: 2 });
    await client.write("secret/config", { max_versions: 4 });
    try {
      for (let i = 1; i <= 6; i++) await client.write(`secret/data/${path}`, { data: { i: String(i) } });
      const meta = await client.read(`secret/metadata/${path}`);
      assert.equal(meta.data.max_versions, 2);
      assert.deepEqual(
        Object.keys(meta.data.versions).sort(),
        ["3", "4", "5", "6"],
        "4 kept: the engine's larger limit",
      );
      assert.deepEqual((await client.read("secret/config")).data, {
        cas_required: false,
        delete_version_after: "0s",
        max_versions: 4,
      });
    } finally {
      await client.write("secret/config", { max_versions: 0 });
    }
  });

  it("reads metadata with versions keyed by number strings, and writes metadata without adding a version (204)", async () => {
    const path = key();
    await client.write(`secret/data/${path}`, { data: { a: "1" } });
    assert.equal(
      await client.write(`secret/metadata/${path}`, { custom_metadata: { team: "payments" } }),
      "",
    );
    const meta = await client.read(`secret/metadata/${path}`);
    assert.deepEqual(sortedKeys(meta), ENVELOPE_KEYS);
    assert.deepEqual(sortedKeys(meta.data), [
      "cas_required",
      "created_time",
      "current_version",
      "custom_metadata",
      "delete_version_after",
      "max_versions",
      "oldest_version",
      "updated_time",
      "versions",
    ]);
    assert.equal(meta.data.current_version, 1);
    assert.equal(meta.data.oldest_version, 0, "0 until the first pruning");
    assert.equal(meta.data.delete_version_after, "0s");
    assert.deepEqual(meta.data.custom_metadata, { team: "payments" });
    assert.deepEqual(sortedKeys(meta.data.versions["1"]), ["created_time", "deletion_time", "destroyed"]);
    const read = await client.read(`secret/data/${path}`);
    assert.deepEqual(
      read.data.metadata.custom_metadata,
      { team: "payments" },
      "data reads carry custom_metadata",
    );
    assert.equal(read.data.metadata.version, 1);
  });

  it("deletes a key with every version through metadata DELETE (204), after which reads are 404 errors []", async () => {
    const path = key();
    await client.write(`secret/data/${path}`, { data: { a: "1" } });
    assert.equal(await client.delete(`secret/metadata/${path}`), "");
    assert.deepEqual((await refusal(client.read(`secret/data/${path}`))).body, { errors: [] });
    assert.deepEqual((await refusal(client.read(`secret/metadata/${path}`))).body, { errors: [] });
    const recreated = await client.write(`secret/data/${path}`, { data: { a: "2" }, options: { cas: 0 } });
    assert.equal(recreated.data.version, 1, "numbering restarts");
  });

  it("lists keys and folders (with a trailing slash) through the LIST verb, and an empty folder is 404 errors []", async () => {
    await client.write("secret/data/list-test/a", { data: { x: "1" } });
    await client.write("secret/data/list-test/b/c", { data: { x: "1" } });
    await client.write("secret/data/list-test/b", { data: { x: "1" } });
    const listed = await client.list("secret/metadata/list-test");
    assert.deepEqual(sortedKeys(listed), ENVELOPE_KEYS);
    assert.deepEqual(listed.data, { keys: ["a", "b", "b/"] });
    assert.equal(listed.mount_type, "kv");
    assert.equal(vault.logs.at(-1), "LIST /v1/secret/metadata/list-test 200");
    assert.deepEqual((await refusal(client.list("secret/metadata/list-test/none"))).body, { errors: [] });
  });
});

describe("Vault emulator: paths outside KV v2's API", () => {
  it("answers a v1-style path on a v2 mount with 404 and the versioned-K/V warning", async () => {
    const refused = await refusal(client.write("secret/foo", { a: "1" }));
    assert.equal(refused.status, 404);
    const body = refused.body as { warnings: string[]; data: unknown };
    assert.deepEqual(body.warnings, [
      "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv put' for this operation.",
    ]);
    assert.equal(body.data, null);
    const read = await refusal(client.read("secret/foo"));
    assert.match((read.body as { warnings: string[] }).warnings[0]!, /use 'vault kv get'/);
  });

  it("answers a path under no mount with 404 no handler for route", async () => {
    const refused = await refusal(client.read("nomount/data/x"));
    assert.deepEqual(refused, {
      message: 'no handler for route "nomount/data/x". route entry not found.',
      status: 404,
      body: { errors: ['no handler for route "nomount/data/x". route entry not found.'] },
    });
  });
});
