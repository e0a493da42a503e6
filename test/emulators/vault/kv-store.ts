/**
 * KV v2 state, following hashicorp/vault-plugin-secrets-kv: per-key metadata with a version map, the
 * check-and-set rule, the max_versions sliding window (KeyMetadata.AddVersion) and soft delete / undelete /
 * destroy. No HTTP here; kv.ts turns these into Vault's replies.
 */
import { nowNs, rfc3339Nano } from "./time.js";

/** `defaultMaxVersions` in backend.go. */
export const DEFAULT_MAX_VERSIONS = 10;

export interface VersionEntry {
  createdNs: bigint;
  deletionNs: bigint | null;
  destroyed: boolean;
  /** The stored map; null once destroyed or pruned. */
  data: Record<string, unknown> | null;
}

export interface KeyMetadata {
  versions: Map<number, VersionEntry>;
  currentVersion: number;
  oldestVersion: number;
  createdNs: bigint | null;
  updatedNs: bigint | null;
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfter: number;
  customMetadata: Record<string, string> | null;
}

export interface EngineConfig {
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfter: number;
}

export const CAS_MISMATCH = "check-and-set parameter did not match the current version";
export const CAS_REQUIRED = "check-and-set parameter required for this call";
export const CAS_UNPARSABLE = "error parsing check-and-set parameter";

export function emptyMetadata(): KeyMetadata {
  return {
    versions: new Map(),
    currentVersion: 0,
    oldestVersion: 0,
    createdNs: null,
    updatedNs: null,
    maxVersions: 0,
    casRequired: false,
    deleteVersionAfter: 0,
    customMetadata: null,
  };
}

/** A version is hidden from reads once its deletion time has passed (`deletionTime.Before(time.Now())`). */
export function isDeleted(version: VersionEntry, now = nowNs()): boolean {
  return version.deletionNs !== null && version.deletionNs < now;
}

export function timestamp(ns: bigint | null): string {
  return ns === null ? "" : rfc3339Nano(ns);
}

/** The per-version metadata block of data reads and writes. */
export function versionView(
  number: number,
  version: VersionEntry,
  meta: KeyMetadata,
): Record<string, unknown> {
  return {
    created_time: timestamp(version.createdNs),
    custom_metadata: meta.customMetadata,
    deletion_time: timestamp(version.deletionNs),
    destroyed: version.destroyed,
    version: number,
  };
}

/** mapstructure.WeakDecode of `options.cas` into an int: numbers, numeric strings, booleans, null. */
function weakInt(raw: unknown): number | undefined {
  if (raw === null) return 0;
  if (typeof raw === "boolean") return raw ? 1 : 0;
  if (typeof raw === "number" && Number.isFinite(raw)) return Math.trunc(raw);
  if (typeof raw === "string" && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
  if (typeof raw === "string" && raw.trim() === "") return 0;
  return undefined;
}

/** validateCheckAndSetOption: the error text, or undefined when the write may go ahead. */
export function checkAndSet(options: unknown, config: EngineConfig, meta: KeyMetadata): string | undefined {
  const hasCas = options !== null && typeof options === "object" && "cas" in options;
  if (hasCas) {
    const cas = weakInt((options as { cas: unknown }).cas);
    if (cas === undefined) return CAS_UNPARSABLE;
    return cas === meta.currentVersion ? undefined : CAS_MISMATCH;
  }
  return config.casRequired || meta.casRequired ? CAS_REQUIRED : undefined;
}

/** KeyMetadata.AddVersion plus the cleanup of pruned version data. */
export function addVersion(meta: KeyMetadata, data: Record<string, unknown>, config: EngineConfig): number {
  const created = nowNs();
  meta.currentVersion++;
  meta.versions.set(meta.currentVersion, { createdNs: created, deletionNs: null, destroyed: false, data });
  meta.updatedNs = created;
  if (meta.createdNs === null) meta.createdNs = created;
  // The code takes the larger of the key's and the engine's limit (the docs say the key "can overwrite").
  const limit = Math.max(meta.maxVersions, config.maxVersions) || DEFAULT_MAX_VERSIONS;
  if (meta.currentVersion - meta.oldestVersion >= limit) {
    const lastToDelete = meta.currentVersion - limit;
    for (let v = meta.oldestVersion; v <= lastToDelete; v++) meta.versions.delete(v);
    meta.oldestVersion = lastToDelete + 1;
  }
  return meta.currentVersion;
}

export function softDelete(meta: KeyMetadata, versions: number[]): void {
  const now = nowNs();
  for (const number of versions) {
    const version = meta.versions.get(number);
    if (!version || version.destroyed || isDeleted(version, now)) continue;
    version.deletionNs = now;
  }
}

export function undelete(meta: KeyMetadata, versions: number[]): void {
  for (const number of versions) {
    const version = meta.versions.get(number);
    if (!version || version.destroyed) continue;
    version.deletionNs = null;
  }
}

export function destroy(meta: KeyMetadata, versions: number[]): void {
  for (const number of versions) {
    const version = meta.versions.get(number);
    if (!version) continue;
    version.destroyed = true;
    version.data = null;
  }
}

/** RFC 7386 JSON merge patch: null removes a key, objects merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

/**
 * Storage List under `folder` ("" or ending in "/"): the direct children, folders suffixed "/", sorted
 * as Vault's storage returns them.
 */
export function listChildren(keys: Iterable<string>, folder: string): string[] {
  const children = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(folder) || key === folder) continue;
    const rest = key.slice(folder.length);
    const slash = rest.indexOf("/");
    children.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  return [...children].sort();
}
