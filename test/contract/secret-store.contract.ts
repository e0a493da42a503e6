/**
 * The one contract every secret-store adapter must pass (src/stores/types.ts). Run it with
 * `describeSecretStore(name, makeStore)` from a test file; the harness seeds and corrupts through the
 * backend itself (the file store's admin API, a KV write, a PutSecretValue), never through the port.
 *
 * Material is real: a P-256 client cert and key issued by a CA made at test time (test/fixtures/pki.ts).
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type ErrorCode, isCertrotorError } from "../../src/errors.js";
import {
  type CredentialRef,
  type FieldMap,
  type Material,
  readCurrentAndPending,
  readsCurrentVersion,
  type SecretStore,
} from "../../src/stores/types.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { mapLimit, secretsOf } from "./helpers.js";

export interface StoreHarness {
  store: SecretStore;
  /** Writes `material` as the current version, as an operator or another tool would. */
  seed(ref: CredentialRef, material: Material, tags?: Record<string, string>): Promise<void>;
  /** Writes a raw consumer-visible document as current (keys exactly as given). */
  corrupt(ref: CredentialRef, doc: Record<string, unknown>): Promise<void>;
  /** A store instance whose credentials the backend refuses. */
  denyAll(): Promise<SecretStore>;
  cleanup(): Promise<void>;
  /** The backend's own refusal text that ACCESS_DENIED must carry (e.g. /permission denied/). */
  deniedMessage?: RegExp;
}

export interface ContractOptions {
  /** Credentials seeded for the paging test (default 2,500). */
  listTotal?: number;
  /** Page size asked for while paging (default 100, the AWS maximum). */
  pageSize?: number;
  /** Concurrent seed calls (default 32). */
  seedConcurrency?: number;
  /**
   * Whether the adapter's listing says which paths have pending material (ListPage.pending); "eventually"
   * on a backend whose listing may lag a write (AWS with stale reads): the hint is polled until it agrees.
   */
  pendingHints: boolean | "eventually";
}

export async function expectCode(
  promise: Promise<unknown>,
  code: ErrorCode,
  secrets: string[] = [],
): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(isCertrotorError(caught), `expected CertrotorError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  const shown = [
    caught.message,
    caught.hint ?? "",
    JSON.stringify(caught.details),
    caught.toSafeString(),
  ].join("\n");
  for (const secret of secrets)
    assert.ok(!shown.includes(secret), `${code} error text carries a secret value`);
  return caught;
}

export function describeSecretStore(
  name: string,
  makeStore: () => Promise<StoreHarness>,
  options: ContractOptions,
): void {
  describe(`secret store contract: ${name}`, () => {
    let h: StoreHarness;
    let ca: PkiMaterial;
    const run = randomBytes(4).toString("hex");
    let counter = 0;

    before(async () => {
      ca = await aCa();
      h = await makeStore();
    });
    after(async () => {
      await h?.store.close();
      await h?.cleanup();
    });

    const aRef = (fieldMap?: FieldMap, group = "c"): CredentialRef => {
      const id = `cred-${run}-${++counter}`;
      return { credentialId: id, path: `contract-${run}/${group}/${id}`, ...(fieldMap ? { fieldMap } : {}) };
    };
    const aMaterial = async (clientId = "client-app-01"): Promise<Material> => {
      const cert = await aClientCert({ ca });
      return {
        clientId,
        clientSecret: `cs-${randomBytes(18).toString("base64url")}`,
        certPem: cert.certPem,
        chainPem: ca.certPem,
        keyPem: cert.keyPem,
        fingerprint: cert.fingerprint,
        notAfter: cert.notAfter.toISOString(),
      };
    };
    /** Material as the saga stages it: carrying the id of the rotation that produced it. */
    const aStaged = async (rotationId: string): Promise<Material> => ({ ...(await aMaterial()), rotationId });
    const seeded = async (fieldMap?: FieldMap): Promise<{ ref: CredentialRef; m1: Material; v1: string }> => {
      const ref = aRef(fieldMap);
      const m1 = await aMaterial();
      await h.seed(ref, m1);
      const { version } = await h.store.readCurrent(ref);
      return { ref, m1, v1: version };
    };

    it("reads back exactly the material that was seeded, with a version token and nothing staged", async () => {
      const { ref, m1, v1 } = await seeded();
      const current = await h.store.readCurrent(ref);
      assert.deepEqual(current.material, m1);
      assert.ok(v1.length > 0);
      assert.equal(await h.store.readPending(ref), null);
    });

    it("keeps staged material invisible until promote, which makes it current and the old one previous", async () => {
      const { ref, m1, v1 } = await seeded();
      const rotationId = randomUUID();
      const m2 = await aStaged(rotationId);
      const staged = await h.store.writePending(ref, rotationId, m2);
      assert.deepEqual(staged.material, m2);
      assert.deepEqual((await h.store.readCurrent(ref)).material, m1);
      const pending = await h.store.readPending(ref);
      assert.equal(pending?.rotationId, rotationId);
      assert.deepEqual(pending?.material, m2);

      const promoted = await h.store.promote(ref, rotationId, v1);
      assert.deepEqual(promoted.material, m2);
      const current = await h.store.readCurrent(ref);
      assert.deepEqual(current.material, m2);
      assert.equal(current.version, promoted.version);
      assert.notEqual(current.version, v1);
      assert.deepEqual((await h.store.readPrevious(ref))?.material, m1);
      assert.equal(await h.store.readPending(ref), null);
    });

    it("refuses promote with CAS_CONFLICT when current changed after it was read, and changes nothing", async () => {
      const { ref, v1 } = await seeded();
      const rotationId = randomUUID();
      const m2 = await aStaged(rotationId);
      const m3 = await aMaterial();
      await h.store.writePending(ref, rotationId, m2);
      await h.seed(ref, m3); // someone else writes current between our read and our promote
      await expectCode(h.store.promote(ref, rotationId, v1), "CAS_CONFLICT", secretsOf(m2, m3));
      assert.deepEqual((await h.store.readCurrent(ref)).material, m3);
      const pending = await h.store.readPending(ref);
      assert.equal(pending?.rotationId, rotationId);
      assert.deepEqual(pending?.material, m2);
    });

    it("treats a repeated writePending, promote and dropPending with the same rotation id as done", async () => {
      const { ref, m1, v1 } = await seeded();
      const r1 = randomUUID();
      const m2 = await aStaged(r1);
      const first = await h.store.writePending(ref, r1, m2);
      const again = await h.store.writePending(ref, r1, m2);
      assert.equal(again.version, first.version);
      const promoted = await h.store.promote(ref, r1, v1);
      const repeated = await h.store.promote(ref, r1, v1);
      assert.equal(repeated.version, promoted.version);
      assert.deepEqual(repeated.material, m2);
      assert.deepEqual((await h.store.readPrevious(ref))?.material, m1, "the retry must not promote twice");
      assert.deepEqual(await h.store.writePending(ref, r1, m2).then((s) => s.material), m2);
      assert.equal(await h.store.readPending(ref), null, "a staged retry after promote stages nothing");

      const r2 = randomUUID();
      await h.store.writePending(ref, r2, await aStaged(r2));
      await h.store.dropPending(ref, r2);
      await h.store.dropPending(ref, r2);
      await h.store.dropPending(ref);
      assert.equal(await h.store.readPending(ref), null);
      assert.deepEqual((await h.store.readCurrent(ref)).material, m2);
    });

    it("replaces staged material when the same rotation stages different material before promote", async () => {
      const { ref, v1 } = await seeded();
      const rotationId = randomUUID();
      await h.store.writePending(ref, rotationId, await aStaged(rotationId));
      const m3 = await aStaged(rotationId);
      await h.store.writePending(ref, rotationId, m3);
      assert.deepEqual((await h.store.readPending(ref))?.material, m3);
      assert.deepEqual((await h.store.promote(ref, rotationId, v1)).material, m3);
    });

    it("refuses to stage for another rotation with PENDING_CONFLICT while one is pending", async () => {
      const { ref } = await seeded();
      const [r1, r2] = [randomUUID(), randomUUID()];
      const m2 = await aStaged(r1);
      const m3 = await aStaged(r2);
      await h.store.writePending(ref, r1, m2);
      await expectCode(h.store.writePending(ref, r2, m3), "PENDING_CONFLICT", secretsOf(m2, m3));
      await h.store.dropPending(ref, r2); // another rotation's id: leaves r1's pending alone
      assert.equal((await h.store.readPending(ref))?.rotationId, r1);
      await h.store.dropPending(ref, r1);
      await h.store.writePending(ref, r2, m3);
      assert.equal((await h.store.readPending(ref))?.rotationId, r2);
    });

    it("lists thousands of credentials across pages, each exactly once, and only under the prefix", async () => {
      const total = options.listTotal ?? 2_000;
      const prefix = `contract-${run}/many-${randomBytes(3).toString("hex")}/`;
      const m = await aMaterial();
      const paths = Array.from({ length: total }, (_, i) => `${prefix}cred-${String(i).padStart(5, "0")}`);
      await mapLimit(paths, options.seedConcurrency ?? 32, (path) =>
        h.seed({ credentialId: path.replaceAll("/", "_"), path }, m),
      );
      await h.seed(aRef(undefined, "outside"), m);

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await h.store.list({
          prefix,
          pageSize: options.pageSize ?? 100,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.paths);
        cursor = page.next;
        pages++;
        assert.ok(pages <= total + 1, "list must terminate");
      } while (cursor);
      assert.equal(seen.length, total, "every credential exactly once over all pages");
      assert.deepEqual([...seen].sort(), [...paths].sort());
      assert.ok(pages > 1, "the listing was paged");
    });

    it(`${options.pendingHints ? "says" : "does not claim to know"} in its listing which credentials have pending material`, async () => {
      const prefix = `contract-${run}/hints-${randomBytes(3).toString("hex")}/`;
      const refs = [0, 1, 2].map((i) => ({ credentialId: `h-${run}-${i}`, path: `${prefix}h-${i}` }));
      for (const ref of refs) await h.seed(ref, await aMaterial());
      // every page of the listing (a store may page a filtered listing, as AWS ListSecrets does)
      const listAll = async (): Promise<{ paths: string[]; pending: string[] | undefined }> => {
        const paths: string[] = [];
        let pending: string[] | undefined;
        let cursor: string | undefined;
        do {
          const page = await h.store.list({ prefix, ...(cursor ? { cursor } : {}) });
          paths.push(...page.paths);
          if (page.pending) pending = [...(pending ?? []), ...page.pending];
          cursor = page.next;
        } while (cursor);
        return { paths: paths.sort(), pending: pending?.sort() };
      };
      const listed = async (): Promise<string[] | undefined> => (await listAll()).pending;
      const hint = async (wanted: string[] | undefined): Promise<string[] | undefined> => {
        if (options.pendingHints !== "eventually") return listed();
        // a listing may lag a write there: poll until it agrees (or give the last answer to the assertion)
        const until = Date.now() + 10_000;
        let got = await listed();
        while (JSON.stringify(got) !== JSON.stringify(wanted) && Date.now() < until) got = await listed();
        return got;
      };
      const want = (...paths: string[]): string[] | undefined => (options.pendingHints ? paths : undefined);
      const expectHint = async (...paths: string[]): Promise<void> =>
        assert.deepEqual(await hint(want(...paths)), want(...paths));
      await expectHint();
      const [a, b] = [refs[0]!, refs[1]!];
      const rotationA = randomUUID();
      await h.store.writePending(a, rotationA, await aStaged(rotationA));
      await h.store.writePending(b, "r-b", await aStaged("r-b"));
      await expectHint(a.path, b.path);
      assert.deepEqual((await listAll()).paths, refs.map((r) => r.path).sort());
      await h.store.dropPending(b, "r-b");
      await expectHint(a.path);
      await h.store.promote(a, rotationA, (await h.store.readCurrent(a)).version);
      await expectHint();
    });

    it("lists only credentials carrying a tag, or a tag with a given value", async () => {
      const prefix = `contract-${run}/tags-${randomBytes(3).toString("hex")}/`;
      const m = await aMaterial();
      const tagged = async (i: number, tags?: Record<string, string>): Promise<string> => {
        const path = `${prefix}t-${i}`;
        await h.seed({ credentialId: `t-${run}-${i}`, path }, m, tags);
        return path;
      };
      const teamA = await Promise.all([0, 1, 2].map((i) => tagged(i, { team: "payments" })));
      const teamB = await Promise.all([3, 4].map((i) => tagged(i, { team: "cards" })));
      await tagged(5);
      const listAll = async (tag: { key: string; value?: string }): Promise<string[]> => {
        const out: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await h.store.list({ prefix, tag, pageSize: 2, ...(cursor ? { cursor } : {}) });
          out.push(...page.paths);
          cursor = page.next;
        } while (cursor);
        return out.sort();
      };
      assert.deepEqual(await listAll({ key: "team", value: "payments" }), teamA.sort());
      assert.deepEqual(await listAll({ key: "team" }), [...teamA, ...teamB].sort());
    });

    it("answers current's version without reading it: readCurrent's token, unmoved by staging, moved by promote", async () => {
      assert.ok(readsCurrentVersion(h.store), "every adapter reports current's version (certrotor/client)");
      const store = h.store;
      const { ref, v1 } = await seeded();
      assert.equal(await store.currentVersion(ref), v1);
      const rotationId = randomUUID();
      await store.writePending(ref, rotationId, await aStaged(rotationId));
      assert.equal(await store.currentVersion(ref), v1);
      const promoted = await store.promote(ref, rotationId, v1);
      assert.equal(await store.currentVersion(ref), promoted.version);
      assert.notEqual(promoted.version, v1);
      await expectCode(store.currentVersion(aRef()), "NOT_FOUND");
    });

    it("reads current and pending together as readCurrent and readPending answer them", async () => {
      const { ref, m1, v1 } = await seeded();
      assert.deepEqual(await readCurrentAndPending(h.store, ref), {
        current: await h.store.readCurrent(ref),
        pending: null,
      });
      const rotationId = randomUUID();
      const m2 = await aStaged(rotationId);
      await h.store.writePending(ref, rotationId, m2);
      const both = await readCurrentAndPending(h.store, ref);
      assert.deepEqual(both.current.material, m1);
      assert.equal(both.current.version, v1);
      assert.equal(both.pending?.rotationId, rotationId);
      assert.deepEqual(both.pending?.material, m2);
      await expectCode(readCurrentAndPending(h.store, aRef()), "NOT_FOUND");
    });

    it("fails with NOT_FOUND when the secret does not exist", async () => {
      await expectCode(h.store.readCurrent(aRef()), "NOT_FOUND");
    });

    it("fails with MATERIAL_INVALID naming the consumer-visible field, without echoing stored values", async () => {
      const m = await aMaterial();
      const ref = aRef({ keyPem: "tls.key" });
      const { keyPem: _key, ...withoutKey } = m;
      await h.corrupt(ref, withoutKey);
      const missing = await expectCode(h.store.readCurrent(ref), "MATERIAL_INVALID", secretsOf(m));
      assert.match(missing.message, /tls\.key/);
      assert.equal((missing as { details?: Record<string, unknown> }).details?.field, "tls.key");

      const other = aRef();
      await h.corrupt(other, { ...m, certPem: 42 });
      const wrongType = await expectCode(h.store.readCurrent(other), "MATERIAL_INVALID", secretsOf(m));
      assert.match(wrongType.message, /certPem/);
    });

    it("fails with ACCESS_DENIED carrying the store's message when the store refuses the credentials", async () => {
      const { ref, m1 } = await seeded();
      const denied = await h.denyAll();
      try {
        const read = await expectCode(denied.readCurrent(ref), "ACCESS_DENIED", secretsOf(m1));
        if (h.deniedMessage) assert.match(read.message, h.deniedMessage);
        const rotationId = randomUUID();
        const m2 = await aStaged(rotationId);
        await expectCode(denied.writePending(ref, rotationId, m2), "ACCESS_DENIED", secretsOf(m1, m2));
      } finally {
        await denied.close();
      }
      assert.deepEqual((await h.store.readCurrent(ref)).material, m1);
      assert.equal(await h.store.readPending(ref), null);
    });

    it("stores fields under the consumer-visible names of the field map and keeps unmanaged keys", async () => {
      const fieldMap: FieldMap = { certPem: "tls.crt", keyPem: "tls.key", clientSecret: "client_secret" };
      const ref = aRef(fieldMap);
      const m1 = await aMaterial();
      const { certPem, keyPem, clientSecret, ...rest } = m1;
      const extra = { owner: "team-payments", "app.config": "keep me verbatim" };
      await h.corrupt(ref, {
        ...rest,
        "tls.crt": certPem,
        "tls.key": keyPem,
        client_secret: clientSecret,
        ...extra,
      });
      const current = await h.store.readCurrent(ref);
      assert.deepEqual(current.material, m1);
      assert.deepEqual(current.extra, extra);

      const rotationId = randomUUID();
      const m2 = await aStaged(rotationId);
      await h.store.writePending(ref, rotationId, m2);
      assert.deepEqual((await h.store.readPending(ref))?.extra, extra);
      await h.store.promote(ref, rotationId, current.version);
      const after = await h.store.readCurrent(ref);
      assert.deepEqual(after.material, m2);
      assert.deepEqual(after.extra, extra, "unmanaged keys survive a rotation untouched");
      const { fieldMap: _map, ...unmapped } = ref;
      const asLogical = await expectCode(h.store.readCurrent(unmapped), "MATERIAL_INVALID", secretsOf(m2));
      assert.match(asLogical.message, /certPem/, "the logical name was not written beside the mapped one");
    });
  });
}
