/**
 * watchCredential against real stores: the file store, the Vault emulator (metadata version, and a token
 * that may not read metadata), the AWS emulator (DescribeSecret's AWSCURRENT); plain PEM files written
 * the unsafe way (certificate first, key later); and a store that fails for a while.
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { once } from "node:events";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CredentialChange, type CredentialWatcher, watchCredential } from "../../src/client/watch.js";
import type { CertrotorError } from "../../src/errors.js";
import { createFileStore } from "../../src/stores/file.js";
import type { Material } from "../../src/stores/types.js";
import { startAwsEmulator } from "../emulators/aws/server.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { randomKeys } from "../stores/aws-fixture.js";
import { vaultStoreConfig } from "../stores/vault-harness.js";

const EVERY_MS = 40;

let ca: PkiMaterial;
let dir: string;
before(async () => {
  ca = await aCa();
  dir = await mkdtemp(join(tmpdir(), "certrotor-watch-"));
});
after(() => rm(dir, { recursive: true, force: true }));

async function aMaterial(): Promise<Material> {
  const cert = await aClientCert({ ca });
  return {
    clientId: "client-app-01",
    clientSecret: "cs-not-shown",
    certPem: cert.certPem,
    chainPem: ca.certPem,
    keyPem: cert.keyPem,
    fingerprint: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
  };
}

const nextChange = (watcher: CredentialWatcher) =>
  once(watcher, "change").then(([change]) => change as CredentialChange);
const nextError = (watcher: CredentialWatcher) =>
  once(watcher, "error").then(([error]) => error as CertrotorError);

describe("watchCredential", () => {
  it("follows the file store: stage is no change, promote is one change with both versions", async () => {
    const config = { kind: "file" as const, dir: join(dir, "store"), keyFile: join(dir, "store.key") };
    const store = await createFileStore("main", {
      ...config,
      maxVersions: 10,
      lockTimeout: 10_000,
      lockLease: 30_000,
    });
    const path = "payments/api";
    const m1 = await aMaterial();
    await store.putCurrent({ credentialId: path, path }, m1);
    const watcher = await watchCredential({ store: config, credential: { path }, everyMs: EVERY_MS });
    try {
      assert.equal(watcher.current().material.fingerprint, m1.fingerprint);
      const changes: string[] = [];
      watcher.on("change", ({ current }) => changes.push(current.material.fingerprint));
      const ref = { credentialId: path, path };
      const { version } = await store.readCurrent(ref);
      const m2 = await aMaterial();
      await store.writePending(ref, "rot-1", m2);
      await watcher.check();
      assert.deepEqual(changes, [], "staged material is not current");
      const changed = nextChange(watcher);
      await store.promote(ref, "rot-1", version);
      const { previous, current } = await changed;
      assert.equal(previous.material.fingerprint, m1.fingerprint);
      assert.equal(current.material.fingerprint, m2.fingerprint);
      assert.equal(current.version, (await store.readCurrent(ref)).version);
      assert.deepEqual(watcher.current(), current);
      assert.deepEqual(changes, [m2.fingerprint]);
    } finally {
      await watcher.close();
      await store.close();
    }
  });

  it("follows Vault by its metadata version, and by the data itself when the token may not read metadata", async () => {
    const vault: VaultEmulator = await startVaultEmulator();
    try {
      const path = "payments/api";
      const write = async (material: Material) => {
        const response = await fetch(`${vault.url}/v1/secret/data/${path}`, {
          method: "POST",
          headers: { "X-Vault-Token": vault.rootToken, "content-type": "application/json" },
          body: JSON.stringify({ data: material }),
        });
        assert.equal(response.status, 200);
      };
      await write(await aMaterial());
      const dataOnly = vault.createToken({ paths: [{ path: "secret/data/*", capabilities: ["read"] }] });
      for (const token of [vault.rootToken, dataOnly]) {
        const watcher = await watchCredential({
          store: vaultStoreConfig(vault, token),
          credential: { path },
          everyMs: EVERY_MS,
        });
        try {
          const m = await aMaterial();
          const changed = nextChange(watcher);
          await write(m);
          const { current } = await changed;
          assert.equal(current.material.fingerprint, m.fingerprint);
        } finally {
          await watcher.close();
        }
      }
      assert.ok(
        vault.logs.some((line) => line.startsWith(`GET /v1/secret/metadata/${path} 200`)),
        "the root token polls the metadata",
      );
    } finally {
      await vault.stop();
    }
  });

  it("follows AWS by DescribeSecret's AWSCURRENT version, and by the value when the key may not describe", async () => {
    const full = randomKeys();
    const getOnly = { ...randomKeys(), allow: ["GetSecretValue"] };
    const emulator = await startAwsEmulator({ credentials: [full, getOnly] });
    const admin = new SecretsManagerClient({
      region: emulator.region,
      endpoint: emulator.url,
      credentials: { ...full },
    });
    try {
      const path = "payments/api";
      const put = async (material: Material) =>
        admin.send(new PutSecretValueCommand({ SecretId: path, SecretString: JSON.stringify(material) }));
      await admin.send(
        new CreateSecretCommand({ Name: path, SecretString: JSON.stringify(await aMaterial()) }),
      );
      for (const keys of [
        full,
        { accessKeyId: getOnly.accessKeyId, secretAccessKey: getOnly.secretAccessKey },
      ]) {
        const store = {
          kind: "aws" as const,
          region: emulator.region,
          endpoint: emulator.url,
          credentials: keys,
        };
        const watcher = await watchCredential({ store, credential: { path }, everyMs: EVERY_MS });
        try {
          const m = await aMaterial();
          const changed = nextChange(watcher);
          await put(m);
          assert.equal((await changed).current.material.fingerprint, m.fingerprint);
        } finally {
          await watcher.close();
        }
      }
      assert.ok(
        emulator.logs.some((line) => line.includes("DescribeSecret 200")),
        "the full key polls DescribeSecret, not the secret value",
      );
      assert.ok(
        emulator.logs.some((line) => /DescribeSecret 4\d\d/.test(line)),
        "the GetSecretValue-only key was refused DescribeSecret, and followed the value",
      );
    } finally {
      admin.destroy();
      await emulator.stop();
    }
  });

  it("does not switch to a half-written pair of files, and switches once the key is there too", async () => {
    const certFile = join(dir, "client.pem");
    const keyFile = join(dir, "client.key");
    const m1 = await aMaterial();
    await writeFile(certFile, m1.certPem);
    await writeFile(keyFile, m1.keyPem);
    const watcher = await watchCredential({ certFile, keyFile, everyMs: EVERY_MS });
    try {
      assert.equal(watcher.current().material.fingerprint, m1.fingerprint);
      const changes: string[] = [];
      watcher.on("change", ({ current }) => changes.push(current.material.fingerprint));
      const m2 = await aMaterial();
      const refused = nextError(watcher);
      await writeFile(certFile, m2.certPem); // a writer that is not atomic: new certificate, old key
      const error = await refused;
      assert.equal(error.code, "KEY_MISMATCH");
      assert.equal(watcher.current().material.fingerprint, m1.fingerprint, "the last good material stays");
      assert.deepEqual(changes, []);
      assert.ok(!error.message.includes("PRIVATE KEY") && !JSON.stringify(error.details).includes("PRIVATE"));
      const changed = nextChange(watcher);
      await writeFile(keyFile, m2.keyPem);
      assert.equal((await changed).current.material.fingerprint, m2.fingerprint);
      assert.deepEqual(changes, [m2.fingerprint]);
      const torn = nextError(watcher);
      await writeFile(certFile, m1.certPem.slice(0, 200)); // cut mid-write
      assert.equal((await torn).code, "PEM_MALFORMED");
      assert.equal(watcher.current().material.fingerprint, m2.fingerprint);
    } finally {
      await watcher.close();
    }
  });

  it("reads a pair caught between its two renames again at the next poll, and reports a pair still unusable then", async () => {
    const certFile = join(dir, "renamed.pem");
    const keyFile = join(dir, "renamed.key");
    const m1 = await aMaterial();
    await writeFile(certFile, m1.certPem);
    await writeFile(keyFile, m1.keyPem);
    // polls only when asked, so each check() below is one poll
    const watcher = await watchCredential({ certFile, keyFile, everyMs: 3_600_000 });
    try {
      const seen: string[] = [];
      watcher.on("change", ({ current }) => seen.push(`change ${current.material.fingerprint}`));
      watcher.on("error", (error) => seen.push(`error ${error.code}`));
      const m2 = await aMaterial();
      const swap = async (file: string, text: string) => {
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      };
      await swap(keyFile, m2.keyPem); // the key is in place, its certificate not yet
      await watcher.check();
      assert.deepEqual(seen, [], "one sight of a mismatched pair is not reported");
      assert.equal(watcher.current().material.fingerprint, m1.fingerprint);
      await swap(certFile, m2.certPem);
      await watcher.check();
      assert.deepEqual(seen, [`change ${m2.fingerprint}`]);

      await swap(keyFile, m1.keyPem); // a key that stays wrong
      await watcher.check();
      await watcher.check();
      assert.deepEqual(seen, [`change ${m2.fingerprint}`, "error KEY_MISMATCH"]);
      await watcher.check();
      assert.equal(seen.length, 2, "reported once for that version");
      assert.equal(watcher.current().material.fingerprint, m2.fingerprint);
    } finally {
      await watcher.close();
    }
  });

  it("reports a store that fails for a while as an error, keeps the last material, and follows again after", async () => {
    const vault = await startVaultEmulator();
    try {
      const path = "payments/api";
      const m1 = await aMaterial();
      const write = async (material: Material) => {
        const response = await fetch(`${vault.url}/v1/secret/data/${path}`, {
          method: "POST",
          headers: { "X-Vault-Token": vault.rootToken, "content-type": "application/json" },
          body: JSON.stringify({ data: material }),
        });
        assert.equal(response.status, 200);
      };
      await write(m1);
      const watcher = await watchCredential({
        store: vaultStoreConfig(vault, vault.rootToken, { requestTimeout: 1_000 }),
        credential: { path },
        everyMs: EVERY_MS,
      });
      try {
        const failed = nextError(watcher);
        vault.setSealed(true);
        const error = await failed;
        assert.equal(error.code, "STORE_UNAVAILABLE");
        assert.ok(!error.message.includes(vault.rootToken));
        assert.equal(watcher.current().material.fingerprint, m1.fingerprint);
        vault.setSealed(false);
        const m2 = await aMaterial();
        const changed = nextChange(watcher);
        await write(m2);
        assert.equal((await changed).current.material.fingerprint, m2.fingerprint);
      } finally {
        await watcher.close();
      }
    } finally {
      await vault.stop();
    }
  });

  it("refuses to start on material that is not usable, naming where, and releases the store", async () => {
    const certFile = join(dir, "other.pem");
    const keyFile = join(dir, "other.key");
    const [a, b] = [await aMaterial(), await aMaterial()];
    await writeFile(certFile, a.certPem);
    await writeFile(keyFile, b.keyPem);
    await assert.rejects(watchCredential({ certFile, keyFile }), (error: CertrotorError) => {
      assert.equal(error.code, "KEY_MISMATCH");
      assert.match(error.message, /other\.pem/);
      return true;
    });
    await assert.rejects(watchCredential({ certFile: join(dir, "absent.pem"), keyFile }), {
      code: "NOT_FOUND",
    });
  });
});
