/**
 * The decrypted document of one file-store credential, and the pure transitions the store applies to it
 * under the credential's lock. Keeping the transitions pure keeps the port's rules (idempotency on the
 * rotation id, PENDING_CONFLICT, CAS_CONFLICT) in one readable place, apart from locking and I/O.
 */
import { z } from "zod";
import { CertrotorError } from "../errors.js";
import { decodeMaterial, encodeMaterial, sameMaterial } from "./material.js";
import type { CredentialRef, Material, PendingMaterial, StoredMaterial } from "./types.js";

const versionRecord = z.object({
  /** The store's version token: a per-credential sequence number. */
  version: z.number().int().positive(),
  /** The flat document consumers read (consumer-visible key names, unmanaged keys included). */
  doc: z.record(z.string(), z.unknown()),
  /** The rotation that wrote this version (absent for seeded material). */
  rotationId: z.string().optional(),
  createdAt: z.string(),
});

const credentialDoc = z.object({
  format: z.literal(1),
  path: z.string(),
  /** Highest version number handed out so far (versions are never reused). */
  seq: z.number().int().nonnegative(),
  current: versionRecord,
  pending: versionRecord.extend({ rotationId: z.string() }).optional(),
  /** Older current versions, newest first, at most maxVersions. */
  history: z.array(versionRecord),
  tags: z.record(z.string(), z.string()),
});

export type VersionRecord = z.infer<typeof versionRecord>;
export type CredentialDoc = z.infer<typeof credentialDoc>;

/** The credential document in `plaintext`, or MATERIAL_INVALID when its shape is wrong. */
export function parseDoc(plaintext: Buffer, file: string, path: string): CredentialDoc {
  let value: unknown;
  try {
    value = JSON.parse(plaintext.toString("utf8"));
  } catch (error) {
    throw new CertrotorError("MATERIAL_INVALID", `file-store file ${file} does not decrypt to JSON`, {
      cause: error,
      details: { path, file },
    });
  }
  const parsed = credentialDoc.safeParse(value);
  if (!parsed.success || parsed.data.path !== path) {
    const where = parsed.success
      ? "path"
      : parsed.error.issues.map((issue) => issue.path.join(".")).join(", ");
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `file-store file ${file} has a malformed document (at ${where})`,
      {
        details: { path, file },
      },
    );
  }
  return parsed.data;
}

export function toStored(record: VersionRecord, ref: CredentialRef): StoredMaterial {
  const { material, extra } = decodeMaterial(record.doc, ref);
  return { material, version: String(record.version), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}

export function toPending(
  record: VersionRecord & { rotationId: string },
  ref: CredentialRef,
): PendingMaterial {
  return { ...toStored(record, ref), rotationId: record.rotationId };
}

/** Keys of `record` certrotor does not manage, to carry into a new version. */
export function unmanagedKeys(record: VersionRecord, ref: CredentialRef): Record<string, unknown> {
  try {
    return decodeMaterial(record.doc, ref).extra;
  } catch {
    // Current material is malformed (e.g. hand-edited): a new version still keeps every key it can.
    return { ...record.doc };
  }
}

/** A new document (or a new current version over `doc`) holding `flat` as current. */
export function withCurrent(
  doc: CredentialDoc | undefined,
  path: string,
  flat: Record<string, unknown>,
  now: Date,
  maxVersions: number,
  tags?: Record<string, string>,
): CredentialDoc {
  const seq = (doc?.seq ?? 0) + 1;
  const current: VersionRecord = { version: seq, doc: flat, createdAt: now.toISOString() };
  if (!doc) return { format: 1, path, seq, current, history: [], tags: tags ?? {} };
  const history = [doc.current, ...doc.history].slice(0, maxVersions);
  return { ...doc, seq, current, history, tags: tags ?? doc.tags };
}

/** The document with `material` staged for `rotationId`, or `unchanged` when that is already so. */
export function stagePending(
  doc: CredentialDoc,
  ref: CredentialRef,
  rotationId: string,
  material: Material,
  now: Date,
): { next: CredentialDoc; result: StoredMaterial } | { unchanged: StoredMaterial } {
  if (doc.current.rotationId === rotationId) {
    const current = toStored(doc.current, ref);
    if (sameMaterial(current.material, material)) return { unchanged: current };
    throw new CertrotorError(
      "PENDING_CONFLICT",
      `rotation ${rotationId} of "${ref.path}" was already promoted`,
      {
        details: { path: ref.path, rotationId },
      },
    );
  }
  if (doc.pending && doc.pending.rotationId !== rotationId) {
    throw new CertrotorError(
      "PENDING_CONFLICT",
      `"${ref.path}" already has pending material of rotation ${doc.pending.rotationId}`,
      { details: { path: ref.path, rotationId, pendingRotationId: doc.pending.rotationId } },
    );
  }
  if (doc.pending) {
    const staged = toStored(doc.pending, ref);
    if (sameMaterial(staged.material, material)) return { unchanged: staged };
  }
  const flat = encodeMaterial(material, ref.fieldMap, unmanagedKeys(doc.current, ref));
  const seq = doc.seq + 1;
  const pending = { version: seq, doc: flat, rotationId, createdAt: now.toISOString() };
  return { next: { ...doc, seq, pending }, result: toStored(pending, ref) };
}

/** The document after promoting `rotationId`, or `unchanged` when current already holds it. */
export function promotePending(
  doc: CredentialDoc,
  ref: CredentialRef,
  rotationId: string,
  expectedCurrentVersion: string,
  maxVersions: number,
): { next: CredentialDoc; result: StoredMaterial } | { unchanged: StoredMaterial } {
  if (doc.current.rotationId === rotationId && doc.pending?.rotationId !== rotationId) {
    return { unchanged: toStored(doc.current, ref) };
  }
  if (!doc.pending || doc.pending.rotationId !== rotationId) {
    const holder = doc.pending ? ` (pending belongs to rotation ${doc.pending.rotationId})` : "";
    throw new CertrotorError(
      "NOT_FOUND",
      `"${ref.path}" has no pending material of rotation ${rotationId}${holder}`,
      {
        details: { path: ref.path, rotationId },
      },
    );
  }
  if (String(doc.current.version) !== expectedCurrentVersion) {
    throw new CertrotorError(
      "CAS_CONFLICT",
      `current material of "${ref.path}" is version ${doc.current.version}, not the expected ${expectedCurrentVersion}`,
      {
        details: {
          path: ref.path,
          rotationId,
          expected: expectedCurrentVersion,
          actual: String(doc.current.version),
        },
      },
    );
  }
  // Decoding first means a malformed staged document can never become current.
  const result = toStored(doc.pending, ref);
  const { pending, ...rest } = doc;
  const history = [doc.current, ...doc.history].slice(0, maxVersions);
  return { next: { ...rest, current: pending, history }, result };
}

/** The document without pending material (of `rotationId` when given), or undefined when nothing changes. */
export function withoutPending(doc: CredentialDoc, rotationId?: string): CredentialDoc | undefined {
  if (!doc.pending) return undefined;
  if (rotationId !== undefined && doc.pending.rotationId !== rotationId) return undefined;
  const { pending: _dropped, ...rest } = doc;
  return rest;
}
