/**
 * KV v2 `metadata/` reads and writes (path_metadata.go): key settings that create no version, the
 * custom_metadata limits, and the read view with the version map keyed by version number strings.
 */
import { type Reply, bare, fail, noContent, notFound, ok } from "./envelope.js";
import { type EngineConfig, type KeyMetadata, emptyMetadata, timestamp } from "./kv-store.js";
import { goDuration, nowNs, parseDurationSeconds } from "./time.js";

const VALIDATION = "custom_metadata validation failed";

/** go-multierror's text, as Vault returns several validation errors in one message. */
export function multiError(messages: string[]): string {
  const head = messages.length === 1 ? "1 error occurred:" : `${messages.length} errors occurred:`;
  return `${head}\n${messages.map((m) => `\t* ${m}`).join("\n")}\n\n`;
}

export function metadataRead(meta: KeyMetadata | undefined): Reply {
  if (!meta) return notFound();
  const versions: Record<string, unknown> = {};
  for (const [number, version] of meta.versions) {
    versions[String(number)] = {
      created_time: timestamp(version.createdNs),
      deletion_time: timestamp(version.deletionNs),
      destroyed: version.destroyed,
    };
  }
  return ok(
    {
      cas_required: meta.casRequired,
      created_time: timestamp(meta.createdNs),
      current_version: meta.currentVersion,
      custom_metadata: meta.customMetadata,
      delete_version_after: goDuration(meta.deleteVersionAfter),
      max_versions: meta.maxVersions,
      oldest_version: meta.oldestVersion,
      updated_time: timestamp(meta.updatedNs),
      versions,
    },
    { mountType: "kv" },
  );
}

/** parseCustomMetadata + validateCustomMetadata; nulls are skipped only for PATCH (they remove a key). */
function customMetadata(raw: unknown, dropNulls: boolean): Record<string, string | null> | string {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return `${VALIDATION}: expected a map`;
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 64)
    return multiError([`${VALIDATION}: payload must contain at most 64 keys, provided ${entries.length}`]);
  const out: Record<string, string | null> = {};
  const problems: string[] = [];
  for (const [key, value] of entries) {
    if (value === null && dropNulls) {
      out[key] = null;
      continue;
    }
    const text = value === null ? "" : String(value);
    if (key.length === 0 || key.length > 128) {
      problems.push(`${VALIDATION}: length of key "${key}" is ${key.length} but must be 0 < len(key) <= 128`);
    }
    if (text.length === 0 || text.length > 512) {
      problems.push(
        `${VALIDATION}: length of value for key "${key}" is ${text.length} but must be 0 < len(value) <= 512`,
      );
    }
    out[key] = text;
  }
  return problems.length > 0 ? multiError(problems) : out;
}

interface Settings {
  maxVersions?: number;
  casRequired?: boolean;
  deleteVersionAfter?: number;
  custom?: Record<string, string | null>;
}

function parseSettings(data: Record<string, unknown>, patch: boolean): Settings | string {
  const settings: Settings = {};
  if (data.max_versions !== undefined)
    settings.maxVersions = Math.max(0, Math.trunc(Number(data.max_versions) || 0));
  if (data.cas_required !== undefined)
    settings.casRequired = data.cas_required === true || data.cas_required === "true";
  if (data.delete_version_after !== undefined) {
    const seconds = parseDurationSeconds(data.delete_version_after);
    if (seconds === undefined) return `invalid duration "${String(data.delete_version_after)}"`;
    settings.deleteVersionAfter = seconds;
  }
  if (data.custom_metadata !== undefined) {
    const custom = customMetadata(data.custom_metadata, patch);
    if (typeof custom === "string") return custom;
    settings.custom = custom;
  }
  return settings;
}

function apply(meta: KeyMetadata, settings: Settings, patch: boolean): void {
  if (settings.maxVersions !== undefined) meta.maxVersions = settings.maxVersions;
  if (settings.casRequired !== undefined) meta.casRequired = settings.casRequired;
  if (settings.deleteVersionAfter !== undefined) meta.deleteVersionAfter = settings.deleteVersionAfter;
  if (settings.custom !== undefined) {
    const base: Record<string, string> = patch ? { ...(meta.customMetadata ?? {}) } : {};
    for (const [key, value] of Object.entries(settings.custom)) {
      if (value === null) delete base[key];
      else base[key] = value;
    }
    meta.customMetadata = base;
  }
}

/** The warning Vault adds when a key asks for cas_required=false on an engine that mandates it. */
function casWarning(data: Record<string, unknown>, config: EngineConfig): Reply | undefined {
  if (data.cas_required === undefined || !config.casRequired || data.cas_required === true) return undefined;
  return ok(null, {
    mountType: "kv",
    warnings: ['"cas_required" set to false, but is mandated by backend config. This value will be ignored.'],
  });
}

export function metadataWrite(
  keys: Map<string, KeyMetadata>,
  key: string,
  data: Record<string, unknown>,
  config: EngineConfig,
): Reply {
  if (key === "") return fail(400, "missing path");
  const settings = parseSettings(data, false);
  if (typeof settings === "string") return fail(400, settings);
  // Fast path in pathMetadataWrite: nothing to set creates nothing.
  if (Object.keys(settings).length === 0) return noContent();
  let meta = keys.get(key);
  if (!meta) {
    meta = emptyMetadata();
    meta.createdNs = nowNs();
    meta.updatedNs = meta.createdNs;
    keys.set(key, meta);
  }
  apply(meta, settings, false);
  return casWarning(data, config) ?? noContent();
}

export function metadataPatch(
  meta: KeyMetadata | undefined,
  data: Record<string, unknown>,
  config: EngineConfig,
): Reply {
  const settings = parseSettings(data, true);
  if (typeof settings === "string") return fail(400, settings);
  if (!meta) return bare(404);
  apply(meta, settings, true);
  return casWarning(data, config) ?? noContent();
}
