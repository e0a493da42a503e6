/**
 * File-store behaviour beyond the shared contract: encryption at rest, tamper and key checks, key-file
 * handling, path safety, version history. Cross-process behaviour is in file-processes.test.ts.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { open } from "../../src/stores/file-crypto.js";
import { parseDoc } from "../../src/stores/file-doc.js";
import { keyId } from "../../src/stores/file-key.js";
import { encodePath } from "../../src/stores/file-names.js";
import { createFileStore } from "../../src/stores/file.js";
import type { CredentialRef, Material } from "../../src/stores/types.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { secretsOf } from "../contract/helpers.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { fileStoreConfig } from "./file-harness.js";

let root: string;
let ca: PkiMaterial;
let n = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "certrotor-file-test-"));
  ca = await aCa();
});
after(() => rm(root, { recursive: true, force: true }));

const freshDir = (): string => join(root, `s${++n}`);
const aRef = (path = `bank-a/acme-${++n}`): CredentialRef => ({ credentialId: `cred-${n}`, path });
const docFile = (dir: string, path: string): string => join(dir, `${encodePath(path)}.json`);

async function aMaterial(): Promise<Material> {
  const cert = await aClientCert({ ca });
  return {
    clientId: "client-app-01",
    clientSecret: `cs-${randomBytes(18).toString("base64url")}`,
    certPem: cert.certPem,
    chainPem: ca.certPem,
    keyPem: cert.keyPem,
    pfxBase64: randomBytes(900).toString("base64"),
    pfxPassphrase: `pp-${randomBytes(12).toString("hex")}`,
    fingerprint: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
  };
}

const keyEnv = (key = randomBytes(32)) => ({ env: { STORE_KEY: key.toString("base64") }, key });

describe("file store encryption at rest", () => {
  it("writes no PEM, private key, passphrase, PFX or client secret to disk", async () => {
    const dir = freshDir();
    const store = await createFileStore("enc", fileStoreConfig(dir));
    const ref = aRef();
    const m1 = await aMaterial();
    const m2 = await aMaterial();
    await store.putCurrent(ref, m1, { team: "payments" });
    await store.writePending(ref, randomUUID(), m2);
    const bytes = (await readFile(docFile(dir, ref.path))).toString("latin1");
    assert.ok(!bytes.includes("-----BEGIN"), "no PEM armor on disk");
    for (const secret of [...secretsOf(m1, m2), "payments", m1.clientId]) {
      assert.ok(!bytes.includes(secret), "no secret value on disk");
    }
    const envelope = JSON.parse(bytes) as Record<string, string>;
    // one JSON line, exactly as JSON.stringify writes the envelope, its fields in this order
    assert.equal(bytes, `${JSON.stringify(envelope)}\n`);
    assert.deepEqual(Object.keys(envelope), ["format", "v", "alg", "kid", "iv", "tag", "ct"]);
    assert.equal(envelope.alg, "A256GCM");
    assert.equal(Buffer.from(envelope.iv!, "base64").length, 12);
    await store.dropPending(ref);
    const again = JSON.parse(await readFile(docFile(dir, ref.path), "utf8")) as Record<string, string>;
    assert.notEqual(again.iv, envelope.iv, "every write uses a fresh IV");
  });

  it("detects a modified file and a file copied over another credential's as MATERIAL_INVALID", async () => {
    const dir = freshDir();
    const store = await createFileStore("tamper", fileStoreConfig(dir));
    const [a, b] = [aRef(), aRef()];
    const [ma, mb] = [await aMaterial(), await aMaterial()];
    await store.putCurrent(a, ma);
    await store.putCurrent(b, mb);

    const file = docFile(dir, a.path);
    const envelope = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
    const ct = Buffer.from(envelope.ct!, "base64");
    ct[ct.length >> 1]! ^= 0x01;
    await writeFile(file, JSON.stringify({ ...envelope, ct: ct.toString("base64") }));
    const modified = await expectCode(store.readCurrent(a), "MATERIAL_INVALID", secretsOf(ma));
    assert.match(modified.message, /failed authentication/);

    await copyFile(docFile(dir, b.path), file);
    await expectCode(store.readCurrent(a), "MATERIAL_INVALID", secretsOf(ma, mb));
    await expectCode(store.writePending(a, randomUUID(), mb), "MATERIAL_INVALID", secretsOf(ma, mb));
    assert.deepEqual((await store.readCurrent(b)).material, mb, "the source credential is untouched");
  });
});

describe("file store authentication tags", () => {
  it("refuses a document whose GCM tag was cut to 4 bytes (a truncated tag is a cheap forgery)", async () => {
    const dir = freshDir();
    const store = await createFileStore("tags", fileStoreConfig(dir));
    const ref = aRef();
    const m = await aMaterial();
    await store.putCurrent(ref, m);
    const file = docFile(dir, ref.path);
    const envelope = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
    const tag = Buffer.from(envelope.tag!, "base64");
    assert.equal(tag.length, 16, "written with a 16-byte tag");
    // the first 4 bytes of the genuine tag: GCM without authTagLength accepts this as valid
    await writeFile(file, JSON.stringify({ ...envelope, tag: tag.subarray(0, 4).toString("base64") }));
    const short = await expectCode(store.readCurrent(ref), "MATERIAL_INVALID", secretsOf(m));
    assert.match(short.message, /failed authentication/);
  });
});

describe("file store keys", () => {
  it("refuses to read with another key: STORE_KEY_INVALID naming both key ids, never the keys", async () => {
    const dir = freshDir();
    const first = keyEnv();
    const second = keyEnv();
    const ref = aRef();
    const m = await aMaterial();
    await (
      await createFileStore("k1", fileStoreConfig(dir, { keyEnv: "STORE_KEY" }), { env: first.env })
    ).putCurrent(ref, m);
    const other = await createFileStore("k2", fileStoreConfig(dir, { keyEnv: "STORE_KEY" }), {
      env: second.env,
    });
    const keys = [first.key, second.key].flatMap((k) => [k.toString("base64"), k.toString("hex")]);
    const error = await expectCode(other.readCurrent(ref), "STORE_KEY_INVALID", [...keys, ...secretsOf(m)]);
    assert.match(error.message, new RegExp(`${keyId(first.key)}.*${keyId(second.key)}`));
  });

  it("names the variable, not its value, when keyEnv is unset or not a 32-byte key", async () => {
    const config = fileStoreConfig(freshDir(), { keyEnv: "STORE_KEY" });
    const unset = await expectCode(createFileStore("e1", config, { env: {} }), "STORE_KEY_INVALID");
    assert.match(unset.message, /STORE_KEY is not set/);
    const short = randomBytes(16).toString("hex");
    await expectCode(createFileStore("e2", config, { env: { STORE_KEY: short } }), "STORE_KEY_INVALID", [
      short,
    ]);
    const hex = randomBytes(32).toString("hex");
    const store = await createFileStore("e3", config, { env: { STORE_KEY: hex } });
    await store.putCurrent(aRef(), await aMaterial());
  });

  it("creates <dir>/.key with a random key and mode 0600 when no key is configured, and reuses it", async () => {
    const dir = freshDir();
    const ref = aRef();
    const m = await aMaterial();
    await (await createFileStore("d1", fileStoreConfig(dir))).putCurrent(ref, m);
    const info = await stat(join(dir, ".key"));
    assert.equal(info.mode & 0o777, 0o600);
    const reopened = await createFileStore("d2", fileStoreConfig(dir));
    assert.deepEqual((await reopened.readCurrent(ref)).material, m);
  });

  it("refuses a key file readable by group or others, naming the file and its mode", async () => {
    const dir = freshDir();
    const keyFile = join(root, `loose-${n}.key`);
    await writeFile(keyFile, randomBytes(32).toString("base64"), { mode: 0o644 });
    await chmod(keyFile, 0o644);
    const error = await expectCode(
      createFileStore("m", fileStoreConfig(dir, { keyFile })),
      "STORE_KEY_INVALID",
    );
    assert.ok(error.message.includes(keyFile) && error.message.includes("0644"), error.message);
  });

  it("refuses to create a new key when the directory already holds encrypted credentials", async () => {
    const dir = freshDir();
    await (await createFileStore("lost", fileStoreConfig(dir))).putCurrent(aRef(), await aMaterial());
    await unlink(join(dir, ".key"));
    const error = await expectCode(createFileStore("lost2", fileStoreConfig(dir)), "STORE_KEY_INVALID");
    assert.match(error.message, /missing but the store already holds encrypted credentials/);
  });
});

describe("file store paths and versions", () => {
  it("rejects a path with a '..' or '.' segment before touching the disk", async () => {
    const dir = freshDir();
    const store = await createFileStore("p", fileStoreConfig(dir));
    const m = await aMaterial();
    for (const path of ["../escape", "a/../../b", "a/./b", ""]) {
      await expectCode(store.putCurrent({ credentialId: "x", path }, m), "BAD_ARGUMENT", secretsOf(m));
    }
    assert.deepEqual((await readdir(dir)).sort(), [".key"]);
  });

  it("keeps slashes, dots, spaces and non-ASCII in paths inside the directory and lists them back exactly", async () => {
    const dir = freshDir();
    const store = await createFileStore("names", fileStoreConfig(dir));
    const m = await aMaterial();
    const paths = ["prod/bank.a/acme", "prod/bank a/ação", "prod/x%2Fy", "prod/.hidden", "prod/a\\b"];
    for (const path of paths) await store.putCurrent({ credentialId: "x", path }, m);
    assert.deepEqual((await store.list({ prefix: "prod/" })).paths, [...paths].sort());
    for (const name of await readdir(dir)) assert.ok(!name.includes("/") && name !== "..");
  });

  it("keeps at most maxVersions old versions, newest first", async () => {
    const dir = freshDir();
    const config = fileStoreConfig(dir, { maxVersions: 2, keyEnv: "STORE_KEY" });
    const { env, key } = keyEnv();
    const store = await createFileStore("versions", config, { env });
    const ref = aRef();
    const materials: Material[] = [];
    for (let i = 0; i < 5; i++) {
      materials.push(await aMaterial());
      await store.putCurrent(ref, materials[i]!);
    }
    const file = docFile(dir, ref.path);
    const doc = parseDoc(
      open(await readFile(file), file, ref.path, { key, id: keyId(key), source: "test" }),
      file,
      ref.path,
    );
    assert.deepEqual(
      doc.history.map((v) => v.version),
      [4, 3],
    );
    assert.deepEqual((await store.readPrevious(ref))?.material, materials[3]);
  });
});
