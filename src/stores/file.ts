/**
 * The file secret store, certrotor's embedded default: one AES-256-GCM encrypted JSON document per
 * credential in `dir`, holding current, pending (with its rotation id), the version history and tags.
 *
 * Reads take no lock (every write replaces the whole file atomically, so a reader sees a complete old or
 * new document). Writes are serialized per credential twice: an in-process queue (so callers in one
 * process do not poll each other) and an O_EXCL lock file (so processes sharing the directory do not
 * interleave). See file-lock.ts, file-io.ts, file-crypto.ts; the port's rules are in file-doc.ts.
 */
import { readdir, stat } from "node:fs/promises";
import { ensureWritableDirectory } from "../util/dirs.js";
import { join } from "node:path";
import { CertrotorError } from "../errors.js";
import type { FileStoreConfig } from "../config/schema.js";
import { open, seal } from "./file-crypto.js";
import {
  type CredentialDoc,
  parseDoc,
  promotePending,
  stagePending,
  toPending,
  toStored,
  unmanagedKeys,
  withCurrent,
  withoutPending,
} from "./file-doc.js";
import { fsError, readIfExists, removeOrphanTemps, type WriteHooks, writeAtomic } from "./file-io.js";
import { type StoreKey, loadStoreKey } from "./file-key.js";
import { listPaths } from "./file-list.js";
import { acquireFileLock } from "./file-lock.js";
import { DOC_SUFFIX, encodePath, LOCK_SUFFIX } from "./file-names.js";
import { KeyedQueue } from "./keyed-queue.js";
import { encodeMaterial } from "./material.js";
import type {
  CredentialRef,
  CurrentAndPendingReader,
  CurrentVersionReader,
  ListOptions,
  ListPage,
  Material,
  SecretStore,
  StoredMaterial,
} from "./types.js";

export interface PutOptions {
  /** Compare-and-set: only write when current is this version (CAS_CONFLICT otherwise, NOT_FOUND when absent). */
  expectedVersion?: string;
}

/**
 * The file store plus a small operator/seeding API. `putCurrent` and `putCurrentDocument` are for
 * seeding, imports, the demo and tests; the rotation saga never calls them (it stages and promotes).
 */
export interface FileSecretStore extends SecretStore, CurrentVersionReader, CurrentAndPendingReader {
  readonly kind: "file";
  /** Writes `material` as a new current version (the old one becomes previous); pending is left alone. */
  putCurrent(
    ref: CredentialRef,
    material: Material,
    tags?: Record<string, string>,
    options?: PutOptions,
  ): Promise<StoredMaterial>;
  /** Writes a raw consumer-visible document as current, verbatim (e.g. importing a secret with extra keys). */
  putCurrentDocument(
    ref: CredentialRef,
    doc: Record<string, unknown>,
    tags?: Record<string, string>,
    options?: PutOptions,
  ): Promise<{ version: string }>;
}

export interface FileStoreOptions {
  /** Environment for `keyEnv` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Clock for version timestamps. */
  now?: () => Date;
  /** Test hooks into each write (e.g. stop a writer between its durable temp file and the rename). */
  hooks?: WriteHooks;
}

interface Context {
  name: string;
  config: FileStoreConfig;
  key: StoreKey;
  hooks: WriteHooks;
  now: () => Date;
  queue: KeyedQueue;
  /** currentVersion's last answer per document, keyed by stem, with the file's identity it was read from. */
  seen: Map<string, { signature: string; version: string }>;
}

async function load(ctx: Context, path: string, stem: string): Promise<CredentialDoc | undefined> {
  const file = join(ctx.config.dir, stem + DOC_SUFFIX);
  let bytes: Buffer | undefined;
  try {
    bytes = await readIfExists(file);
  } catch (error) {
    throw fsError(ctx.name, "to read", file, error);
  }
  if (bytes === undefined) return undefined;
  return parseDoc(open(bytes, file, path, ctx.key), file, path);
}

/**
 * Current's version, decrypting the document only when the file changed since the last call: every write
 * renames a new file into place, so inode, size and mtime (ns) name one document.
 */
async function currentVersion(ctx: Context, ref: CredentialRef): Promise<string> {
  const stem = encodePath(ref.path);
  const file = join(ctx.config.dir, stem + DOC_SUFFIX);
  const info = await stat(file, { bigint: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsError(ctx.name, "to read", file, error);
  });
  if (info === undefined) missing(ctx, ref);
  const signature = `${info.ino}:${info.size}:${info.mtimeNs}`;
  const seen = ctx.seen.get(stem);
  if (seen?.signature === signature) return seen.version;
  const version = String((await loadExisting(ctx, ref)).current.version);
  ctx.seen.set(stem, { signature, version });
  return version;
}

function missing(ctx: Context, ref: CredentialRef): never {
  throw new CertrotorError("NOT_FOUND", `file store "${ctx.name}" has no credential at "${ref.path}"`, {
    details: { store: ctx.name, path: ref.path, credentialId: ref.credentialId },
  });
}

async function loadExisting(ctx: Context, ref: CredentialRef): Promise<CredentialDoc> {
  return (await load(ctx, ref.path, encodePath(ref.path))) ?? missing(ctx, ref);
}

type Change<T> = { next?: CredentialDoc; result: T };

/** Runs `change` on the credential's document under both locks and writes the new document, if any. */
async function mutate<T>(
  ctx: Context,
  path: string,
  change: (doc: CredentialDoc | undefined) => Change<T>,
): Promise<T> {
  const stem = encodePath(path);
  const { dir, lockTimeout, lockLease } = ctx.config;
  return ctx.queue.run(stem, async () => {
    const lockFile = join(dir, stem + LOCK_SUFFIX);
    const lock = await acquireFileLock(lockFile, { timeoutMs: lockTimeout, leaseMs: lockLease }).catch(
      (error: unknown) => {
        throw fsError(ctx.name, "to lock", lockFile, error);
      },
    );
    try {
      const { next, result } = change(await load(ctx, path, stem));
      if (next) {
        const bytes = seal(Buffer.from(JSON.stringify(next), "utf8"), path, ctx.key);
        await writeAtomic(dir, stem + DOC_SUFFIX, bytes, lock.assertHeld, ctx.hooks).catch(
          (error: unknown) => {
            throw fsError(ctx.name, "to write", join(dir, stem + DOC_SUFFIX), error);
          },
        );
      }
      return result;
    } finally {
      await lock.release().catch(() => undefined); // a lock left behind is stale (dead pid / lease) for others
    }
  });
}

function checkExpected(
  ctx: Context,
  ref: CredentialRef,
  doc: CredentialDoc | undefined,
  options: PutOptions,
): void {
  if (options.expectedVersion === undefined) return;
  if (!doc) missing(ctx, ref);
  if (String(doc.current.version) !== options.expectedVersion) {
    throw new CertrotorError(
      "CAS_CONFLICT",
      `current material of "${ref.path}" is version ${doc.current.version}, not the expected ${options.expectedVersion}`,
      { details: { path: ref.path, expected: options.expectedVersion, actual: String(doc.current.version) } },
    );
  }
}

function buildStore(ctx: Context): FileSecretStore {
  const { maxVersions } = ctx.config;
  const putDoc = <T>(
    ref: CredentialRef,
    flatOf: (doc: CredentialDoc | undefined) => Record<string, unknown>,
    resultOf: (doc: CredentialDoc) => T,
    tags: Record<string, string> | undefined,
    options: PutOptions,
  ): Promise<T> =>
    mutate(ctx, ref.path, (doc) => {
      checkExpected(ctx, ref, doc, options);
      const next = withCurrent(doc, ref.path, flatOf(doc), ctx.now(), maxVersions, tags);
      return { next, result: resultOf(next) };
    });

  return {
    kind: "file",
    name: ctx.name,
    async readCurrent(ref) {
      return toStored((await loadExisting(ctx, ref)).current, ref);
    },
    currentVersion: (ref) => currentVersion(ctx, ref),
    async readPending(ref) {
      const doc = await load(ctx, ref.path, encodePath(ref.path));
      return doc?.pending ? toPending(doc.pending, ref) : null;
    },
    async readCurrentAndPending(ref) {
      const doc = await loadExisting(ctx, ref);
      return {
        current: toStored(doc.current, ref),
        pending: doc.pending ? toPending(doc.pending, ref) : null,
      };
    },
    async readPrevious(ref) {
      const doc = await load(ctx, ref.path, encodePath(ref.path));
      const previous = doc?.history[0];
      return previous ? toStored(previous, ref) : null;
    },
    writePending(ref, rotationId, material) {
      return mutate(ctx, ref.path, (doc) => {
        if (!doc) missing(ctx, ref);
        const outcome = stagePending(doc, ref, rotationId, material, ctx.now());
        return "unchanged" in outcome ? { result: outcome.unchanged } : outcome;
      });
    },
    promote(ref, rotationId, expectedCurrentVersion) {
      return mutate(ctx, ref.path, (doc) => {
        if (!doc) missing(ctx, ref);
        const outcome = promotePending(doc, ref, rotationId, expectedCurrentVersion, maxVersions);
        return "unchanged" in outcome ? { result: outcome.unchanged } : outcome;
      });
    },
    dropPending(ref, rotationId) {
      return mutate(ctx, ref.path, (doc) => {
        const next = doc ? withoutPending(doc, rotationId) : undefined;
        return next ? { next, result: undefined } : { result: undefined };
      });
    },
    list(options: ListOptions): Promise<ListPage> {
      return listPaths(ctx.name, ctx.config.dir, options, (path) => load(ctx, path, encodePath(path)));
    },
    async close() {},
    putCurrent(ref, material, tags, options = {}) {
      const flatOf = (doc: CredentialDoc | undefined) =>
        encodeMaterial(material, ref.fieldMap, doc ? unmanagedKeys(doc.current, ref) : {});
      return putDoc(ref, flatOf, (next) => toStored(next.current, ref), tags, options);
    },
    putCurrentDocument(ref, doc, tags, options = {}) {
      return putDoc(
        ref,
        () => ({ ...doc }),
        (next) => ({ version: String(next.current.version) }),
        tags,
        options,
      );
    },
  };
}

/** Opens (creating when needed) the file store `name` configured by `config`. */
export async function createFileStore(
  name: string,
  config: FileStoreConfig,
  options: FileStoreOptions = {},
): Promise<FileSecretStore> {
  const env = options.env ?? process.env;
  await ensureWritableDirectory(`stores.${name}.dir`, config.dir);
  const hasDocuments = async (): Promise<boolean> =>
    (await readdir(config.dir)).some((entry) => entry.endsWith(DOC_SUFFIX) && !entry.startsWith("."));
  const key = await loadStoreKey(config, env, hasDocuments);
  await removeOrphanTemps(config.dir).catch((error: unknown) => {
    throw fsError(name, "to clean", config.dir, error);
  });
  const now = options.now ?? (() => new Date());
  return buildStore({
    name,
    config,
    key,
    hooks: options.hooks ?? {},
    now,
    queue: new KeyedQueue(),
    seen: new Map(),
  });
}
