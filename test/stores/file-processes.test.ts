/**
 * The file store across processes: real child processes (tsx) share one directory with this one.
 * Proves the lock file serializes writers, a writer killed between temp write and rename leaves the old
 * document intact, and a lock left by a dead or expired holder is taken over.
 */
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { access, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { FileStoreConfig } from "../../src/config/schema.js";
import { createFileStore } from "../../src/stores/file.js";
import { encodePath } from "../../src/stores/file-names.js";
import type { CredentialRef, Material } from "../../src/stores/types.js";
import { mapLimit } from "../contract/helpers.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { fileStoreConfig } from "./file-harness.js";
import type { ChildJob, ChildMessage, ChildOptions } from "./fixtures/file-store-child.js";

const CHILD = fileURLToPath(new URL("./fixtures/file-store-child.ts", import.meta.url));

let root: string;
let ca: PkiMaterial;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "certrotor-file-proc-"));
  ca = await aCa();
});
after(() => rm(root, { recursive: true, force: true }));

async function aMaterial(rotationId?: string): Promise<Material> {
  const cert = await aClientCert({ ca });
  return {
    clientId: "client-app-01",
    clientSecret: `cs-${randomBytes(12).toString("hex")}`,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    fingerprint: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
    ...(rotationId ? { rotationId } : {}),
  };
}

interface Child {
  process: ChildProcess;
  next(event: ChildMessage["event"]): Promise<ChildMessage>;
  exited: Promise<unknown>;
}

function startChild(config: FileStoreConfig, job: ChildJob, options: ChildOptions = {}): Child {
  const child = fork(CHILD, [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const exited = once(child, "exit");
  const waiting = new Map<string, (message: ChildMessage) => void>();
  const seen = new Map<string, ChildMessage>();
  child.on("message", (message: ChildMessage) => {
    seen.set(message.event, message);
    waiting.get(message.event)?.(message);
  });
  child.send({ config, job, options });
  return {
    process: child,
    exited,
    next: (event) =>
      new Promise((resolve, reject) => {
        const already = seen.get(event);
        if (already) return resolve(already);
        waiting.set(event, resolve);
        exited.then(([code]) => reject(new Error(`child exited (${String(code)}) before "${event}"`)));
      }),
  };
}

async function resultsOf(child: Child): Promise<string[]> {
  const message = await child.next("results");
  assert.ok(message.event === "results");
  return message.results;
}

describe("file store across processes", () => {
  it("lets exactly one of two processes win each race to replace current; the other gets CAS_CONFLICT", async () => {
    const config = fileStoreConfig(join(root, `race-${++n}`));
    const store = await createFileStore("parent", config);
    const count = 40;
    const items = await mapLimit(
      Array.from({ length: count }, (_, i) => i),
      8,
      async (i) => {
        const ref: CredentialRef = { credentialId: `race-${i}`, path: `race/${i}` };
        const { version } = await store.putCurrent(ref, await aMaterial());
        const rotationId = randomUUID();
        const staged = await aMaterial(rotationId);
        await store.writePending(ref, rotationId, staged);
        return { ref, rotationId, staged, rival: await aMaterial(), expectedVersion: version };
      },
    );
    // Process A promotes every staged rotation at once; process B, at the same moment, compare-and-sets a
    // rival over the same version of every credential.
    const a = startChild(config, { op: "promote", items });
    const rivals = items.map(({ ref, rival, expectedVersion }) => ({
      ref,
      material: rival,
      expectedVersion,
    }));
    const b = startChild(config, { op: "cas-put", items: rivals });
    await Promise.all([a.next("ready"), b.next("ready")]);
    a.process.send({ event: "go" });
    b.process.send({ event: "go" });
    const [ra, rb] = await Promise.all([resultsOf(a), resultsOf(b)]);
    await Promise.all([a.exited, b.exited]);

    for (const [i, item] of items.entries()) {
      const outcomes = [ra[i], rb[i]].sort();
      assert.deepEqual(outcomes, ["CAS_CONFLICT", "ok"], `credential ${i}: exactly one winner`);
      const current = await store.readCurrent(item.ref);
      const pending = await store.readPending(item.ref);
      if (ra[i] === "ok") {
        assert.deepEqual(current.material, item.staged);
        assert.equal(pending, null);
      } else {
        assert.deepEqual(current.material, item.rival);
        assert.equal(pending?.rotationId, item.rotationId, "the losing promote left its pending staged");
      }
    }
  });

  it("leaves the old document intact when a writer is killed between temp write and rename", async () => {
    const config = fileStoreConfig(join(root, `kill-${++n}`));
    const store = await createFileStore("parent", config);
    const ref: CredentialRef = { credentialId: "kill", path: "bank/kill" };
    const m1 = await aMaterial();
    await store.putCurrent(ref, m1);
    const child = startChild(
      config,
      { op: "put", items: [{ ref, material: await aMaterial() }] },
      { pauseBeforeRename: true },
    );
    await child.next("ready");
    child.process.send({ event: "go" });
    const paused = await child.next("file-store-paused");
    assert.ok(paused.event === "file-store-paused");
    await access(paused.tempFile); // the new document is fully written, just not renamed

    // The child holds the credential's lock: our write waits for it.
    const rotationId = randomUUID();
    const m3 = await aMaterial(rotationId);
    let settled = false;
    const staging = store.writePending(ref, rotationId, m3).finally(() => {
      settled = true;
    });
    assert.deepEqual((await store.readCurrent(ref)).material, m1, "reads never wait for the lock");
    assert.equal(settled, false);

    child.process.kill("SIGKILL");
    await child.exited;
    await staging; // the dead holder's lock was taken over
    assert.deepEqual((await store.readCurrent(ref)).material, m1, "the killed write never landed");
    assert.equal((await store.readPending(ref))?.rotationId, rotationId);
    assert.deepEqual((await store.list({})).paths, [ref.path], "the orphan temp file is not a credential");

    await createFileStore("restarted", config);
    const leftovers = (await readdir(config.dir)).filter((name) => name.endsWith(".tmp"));
    assert.deepEqual(leftovers, [], "a store start removes temp files of dead writers");
  });

  it("takes over a lock whose lease expired even when its holder is alive", async () => {
    const config = fileStoreConfig(join(root, `lease-${++n}`));
    const store = await createFileStore("parent", config);
    const ref: CredentialRef = { credentialId: "lease", path: "bank/lease" };
    await store.putCurrent(ref, await aMaterial());
    const lock = join(config.dir, `${encodePath(ref.path)}.lock`);
    const holder = { pid: process.pid, host: hostname(), token: "stuck", expiresAt: Date.now() - 1 };
    await writeFile(lock, JSON.stringify(holder), { flag: "wx" });
    const m2 = await aMaterial();
    await store.putCurrent(ref, m2);
    assert.deepEqual((await store.readCurrent(ref)).material, m2);
  });

  it("gives up with a retryable STORE_UNAVAILABLE naming the holder when a live lock is not released", async () => {
    const config = fileStoreConfig(join(root, `held-${++n}`), { lockTimeout: 200 });
    const store = await createFileStore("parent", config);
    const ref: CredentialRef = { credentialId: "held", path: "bank/held" };
    const m1 = await aMaterial();
    await store.putCurrent(ref, m1);
    const lock = join(config.dir, `${encodePath(ref.path)}.lock`);
    const holder = { pid: process.pid, host: hostname(), token: "live", expiresAt: Date.now() + 60_000 };
    await writeFile(lock, JSON.stringify(holder), { flag: "wx" });
    const error = await expectCode(store.putCurrent(ref, await aMaterial()), "STORE_UNAVAILABLE");
    assert.match(error.message, new RegExp(`pid ${process.pid}`));
    assert.equal((error as { retryable?: boolean }).retryable, true);
    assert.deepEqual((await store.readCurrent(ref)).material, m1);
  });
});
