/**
 * Resolves the credentials certrotor manages: the explicit list from config plus those discovered in
 * stores by prefix or tag. Each gets its effective renewal policy (defaults ← top level ← credential).
 */
import type { Config, CredentialConfig, KeyType, RenewalPolicyConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import type { CredentialRef, FieldMap, SecretStore } from "../stores/types.js";

export interface ResolvedCredential {
  id: string;
  clientId: string;
  bank: string;
  store: string;
  issuer: string;
  keyType: KeyType;
  pfx: boolean;
  ref: CredentialRef;
  policy: RenewalPolicyConfig;
  alerts?: readonly string[];
  discovered: boolean;
}

function mergePolicy(
  base: RenewalPolicyConfig,
  override: Partial<RenewalPolicyConfig> | undefined,
): RenewalPolicyConfig {
  if (!override) return base;
  const defined = Object.fromEntries(Object.entries(override).filter(([, value]) => value !== undefined));
  return { ...base, ...defined } as RenewalPolicyConfig;
}

export function resolveConfigured(config: Config, credential: CredentialConfig): ResolvedCredential {
  const path = credential.path ?? credential.id;
  const fieldMap: FieldMap | undefined = credential.fields;
  return {
    id: credential.id,
    clientId: credential.clientId,
    bank: credential.bank,
    store: credential.store,
    issuer: credential.issuer,
    keyType: credential.keyType,
    pfx: credential.pfx,
    ref: { credentialId: credential.id, path, ...(fieldMap ? { fieldMap } : {}) },
    policy: mergePolicy(config.renewal, credential.renewal),
    ...(credential.alerts ? { alerts: credential.alerts } : {}),
    discovered: false,
  };
}

/** A discovered credential's id: its store path with separators made id-safe. */
export function idFromPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, "").replace(/[^A-Za-z0-9._-]+/g, "-");
}

export function findConfigured(config: Config, id: string): ResolvedCredential | undefined {
  const credential = config.credentials.find((c) => c.id === id);
  return credential ? resolveConfigured(config, credential) : undefined;
}

/**
 * Every managed credential: configured ones first, then discovered ones (pages through each discovery
 * store). The client_id of a discovered credential is read from its material by the caller (plan/scan);
 * until then it is the empty string.
 */
export async function listCredentials(
  config: Config,
  stores: ReadonlyMap<string, SecretStore>,
  pageSize = 500,
): Promise<ResolvedCredential[]> {
  const out = config.credentials.map((c) => resolveConfigured(config, c));
  const seen = new Set(out.map((c) => `${c.store}\u0000${c.ref.path}`));
  for (const rule of config.discovery) {
    const store = stores.get(rule.store);
    if (!store) throw new CertrotorError("CONFIG_INVALID", `discovery: no store named "${rule.store}"`);
    let cursor: string | undefined;
    do {
      const page = await store.list({
        ...(rule.prefix ? { prefix: rule.prefix } : {}),
        ...(rule.tag ? { tag: rule.tag } : {}),
        pageSize,
        ...(cursor ? { cursor } : {}),
      });
      for (const path of page.paths) {
        const key = `${rule.store}\u0000${path}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const id = idFromPath(path);
        out.push({
          id,
          clientId: "",
          bank: rule.bank,
          store: rule.store,
          issuer: rule.issuer,
          keyType: rule.keyType,
          pfx: rule.pfx,
          ref: { credentialId: id, path, ...(rule.fields ? { fieldMap: rule.fields } : {}) },
          policy: mergePolicy(config.renewal, rule.renewal),
          discovered: true,
        });
      }
      cursor = page.next;
    } while (cursor);
  }
  return out;
}

/** The credential with this id, configured or discovered; UNKNOWN_CREDENTIAL otherwise. */
export async function resolveCredential(
  config: Config,
  stores: ReadonlyMap<string, SecretStore>,
  id: string,
): Promise<ResolvedCredential> {
  const configured = findConfigured(config, id);
  if (configured) return configured;
  if (config.discovery.length > 0) {
    const found = (await listCredentials(config, stores)).find((c) => c.id === id);
    if (found) return found;
  }
  const known = config.credentials.map((c) => c.id);
  throw new CertrotorError(
    "UNKNOWN_CREDENTIAL",
    `no credential "${id}" in the config${config.discovery.length ? " or discovered in its stores" : ""}${
      known.length ? ` (configured: ${known.slice(0, 10).join(", ")}${known.length > 10 ? ", ..." : ""})` : ""
    }`,
    { details: { credentialId: id } },
  );
}
