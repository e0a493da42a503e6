/** The store registry builds each configured kind through its own factory and refuses unknown kinds. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type StoreConfig, storeSchema } from "../../src/config/schema.js";
import { createStore } from "../../src/stores/index.js";
import { expectCode } from "../contract/secret-store.contract.js";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "certrotor-registry-"));
});
after(() => rm(root, { recursive: true, force: true }));

describe("store registry", () => {
  it("opens a file store for kind file, reading keyEnv from the environment it is given", async () => {
    const config = storeSchema.parse({ kind: "file", dir: join(root, "f"), keyEnv: "K" });
    const env = { K: "a".repeat(64) };
    const store = await createStore("embedded", config, { env });
    assert.equal(store.kind, "file");
    assert.equal(store.name, "embedded");
    assert.deepEqual(await store.list({}), { paths: [] });
    await store.close();
  });

  it("opens an AWS store for kind aws without calling AWS", async () => {
    const config = storeSchema.parse({
      kind: "aws",
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:9",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-real-secret" },
    });
    const store = await createStore("sm", config);
    assert.equal(store.kind, "aws");
    await store.close();
  });

  it("opens a Vault store for kind vault", async () => {
    const config = storeSchema.parse({
      kind: "vault",
      address: "http://127.0.0.1:9",
      auth: { method: "token", token: "hvs.not-a-real-token" },
    });
    const store = await createStore("kv", config);
    assert.equal(store.kind, "vault");
    await store.close();
  });

  it("refuses a kind it does not know with UNKNOWN_KIND naming the store and the kind", async () => {
    const bogus = { kind: "consul", address: "http://127.0.0.1:8500" } as unknown as StoreConfig;
    const error = await expectCode(createStore("legacy", bogus), "UNKNOWN_KIND");
    assert.match(error.message, /"legacy".*"consul"/);
  });
});
