/**
 * Converts between the saga's Material and the flat document consumers read in a store, applying the
 * credential's field map. Shared by every adapter so a stored document means the same thing everywhere.
 */
import { CertrotorError } from "../errors.js";
import {
  type CredentialRef,
  type FieldMap,
  MATERIAL_FIELDS,
  type Material,
  type MaterialField,
} from "./types.js";

const REQUIRED: readonly MaterialField[] = ["clientId", "certPem", "keyPem", "fingerprint", "notAfter"];

function keyOf(field: MaterialField, map: FieldMap | undefined): string {
  return map?.[field] ?? field;
}

/**
 * The stored document for `material`, keeping `extra` (keys certrotor does not manage, of any JSON type)
 * untouched, so certrotor can take over secrets apps already read without dropping their other keys.
 */
export function encodeMaterial(
  material: Material,
  fieldMap?: FieldMap,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const doc: Record<string, unknown> = { ...extra };
  for (const field of MATERIAL_FIELDS) {
    const value = material[field];
    if (value !== undefined) doc[keyOf(field, fieldMap)] = value;
  }
  return doc;
}

/**
 * Material from a stored document. Throws MATERIAL_INVALID naming the consumer-visible field (and the
 * credential) when a required field is missing or not a string. Values are never echoed.
 */
export function decodeMaterial(
  doc: unknown,
  ref: Pick<CredentialRef, "credentialId" | "path" | "fieldMap">,
): { material: Material; extra: Record<string, unknown> } {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `stored material of credential "${ref.credentialId}" at "${ref.path}" is not a JSON object`,
      { details: { credentialId: ref.credentialId, path: ref.path } },
    );
  }
  const record = doc as Record<string, unknown>;
  const material: Partial<Record<MaterialField, string>> = {};
  const managedKeys = new Set<string>();
  for (const field of MATERIAL_FIELDS) {
    const key = keyOf(field, ref.fieldMap);
    managedKeys.add(key);
    const value = record[key];
    if (value === undefined || value === null || value === "") {
      if (REQUIRED.includes(field)) {
        throw new CertrotorError(
          "MATERIAL_INVALID",
          `stored material of credential "${ref.credentialId}" at "${ref.path}" is missing field "${key}"`,
          { details: { credentialId: ref.credentialId, path: ref.path, field: key } },
        );
      }
      continue;
    }
    if (typeof value !== "string") {
      throw new CertrotorError(
        "MATERIAL_INVALID",
        `stored material of credential "${ref.credentialId}" at "${ref.path}" has field "${key}" of type ${typeof value}, expected a string`,
        { details: { credentialId: ref.credentialId, path: ref.path, field: key } },
      );
    }
    material[field] = value;
  }
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!managedKeys.has(key)) extra[key] = value;
  }
  return { material: material as Material, extra };
}

/** True when two materials carry the same certificate and key (what idempotent staging compares). */
export function sameMaterial(a: Material, b: Material): boolean {
  return MATERIAL_FIELDS.every((field) => (a[field] ?? "") === (b[field] ?? ""));
}
