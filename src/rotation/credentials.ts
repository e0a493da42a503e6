/**
 * Resolves the credentials certrotor manages: the explicit list from config plus those discovered in
 * stores by prefix or tag. Each gets its effective renewal policy (defaults ← top level ← credential, or
 * ← discovery rule).
 *
 * Finding one credential by id must not list the stores: at 10,000 discovered credentials a listing is
 * some 20 store requests, and every rotate job, retire job and due scan entry needs its credential. So a
 * discovered credential carries where it was found (`discovery`: the rule's key, the store and the path,
 * references only), the scan hands what it resolved down to the jobs it enqueues, and a job rebuilds its
 * credential from that reference and the config alone. Only an id that comes without a reference (a job
 * queued by an older version, an operator's command) is looked up by listing.
 */
import { createHash } from "node:crypto";
import type { Config, CredentialConfig, KeyType, RenewalPolicyConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import type { CredentialRef, FieldMap, SecretStore } from "../stores/types.js";

type DiscoveryRule = Config["discovery"][number];

/** Where discovery found a credential: enough to rebuild it from the config without listing. No secrets. */
export interface DiscoverySource {
  /** discoveryRuleKey of the rule that found it. */
  rule: string;
  store: string;
  path: string;
}

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
  /** Present on a discovered credential (absent on a configured one). */
  discovery?: DiscoverySource;
  /**
   * What the listing that found it showed of its pending material (ListPage.pending): true or false when
   * the store could tell, absent when it could not (and on a configured credential). A hint as of
   * `listedAt`, for the scan only; never carried into job data.
   */
  listed?: { pending: boolean; at: number };
}

function mergePolicy(
  base: RenewalPolicyConfig,
  override: Partial<RenewalPolicyConfig> | undefined,
): RenewalPolicyConfig {
  if (!override) return base;
  const defined = Object.fromEntries(Object.entries(override).filter(([, value]) => value !== undefined));
  return { ...base, ...defined } as RenewalPolicyConfig;
}

function resolveConfigured(config: Config, credential: CredentialConfig): ResolvedCredential {
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
  };
}

/** A discovered credential's id: its store path with separators made id-safe. */
function idFromPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, "").replace(/[^A-Za-z0-9._-]+/g, "-");
}

/**
 * A discovery rule's key: a digest of what selects its paths (store, prefix, tag). It outlives a reordering
 * of the rules and a change of their other settings (bank, issuer, renewal: a job then runs with the new
 * ones); a rule whose selection changed is another rule, and its old jobs resolve by listing.
 */
export function discoveryRuleKey(rule: Pick<DiscoveryRule, "store" | "prefix" | "tag">): string {
  const selection = [rule.store, rule.prefix ?? null, rule.tag?.key ?? null, rule.tag?.value ?? null];
  return createHash("sha256").update(JSON.stringify(selection)).digest("hex").slice(0, 16);
}

function discoveredCredential(config: Config, rule: DiscoveryRule, key: string, path: string) {
  const id = idFromPath(path);
  return {
    id,
    clientId: "",
    bank: rule.bank,
    store: rule.store,
    issuer: rule.issuer,
    keyType: rule.keyType,
    pfx: rule.pfx,
    ref: { credentialId: id, path, ...(rule.fields ? { fieldMap: rule.fields } : {}) },
    policy: mergePolicy(config.renewal, rule.renewal),
    discovery: { rule: key, store: rule.store, path },
  } satisfies ResolvedCredential;
}

const place = (store: string, path: string): string => `${store}\u0000${path}`;

/** What lookups by id read from a config, built once per config object. */
interface ConfigIndex {
  configured: ReadonlyMap<string, CredentialConfig>;
  /** store + path of every configured credential: a configured credential owns its path. */
  configuredPlaces: ReadonlySet<string>;
  /** The first rule of each key (the one listing credits a path to). */
  rules: ReadonlyMap<string, DiscoveryRule>;
}

const indexes = new WeakMap<Readonly<Config>, ConfigIndex>();

function indexOf(config: Readonly<Config>): ConfigIndex {
  let index = indexes.get(config);
  if (!index) {
    const rules = new Map<string, DiscoveryRule>();
    for (const rule of config.discovery) {
      const key = discoveryRuleKey(rule);
      if (!rules.has(key)) rules.set(key, rule);
    }
    index = {
      configured: new Map(config.credentials.map((c) => [c.id, c] as const)),
      configuredPlaces: new Set(config.credentials.map((c) => place(c.store, c.path ?? c.id))),
      rules,
    };
    indexes.set(config, index);
  }
  return index;
}

export function findConfigured(config: Config, id: string): ResolvedCredential | undefined {
  const credential = indexOf(config).configured.get(id);
  return credential ? resolveConfigured(config, credential) : undefined;
}

/**
 * The credential with this id from the config alone: a configured one, or a discovered one rebuilt from
 * where it was found. Undefined when only a listing can tell (no reference, or one the config no longer
 * matches: its rule is gone, or a configured credential now owns the path).
 */
export function knownCredential(
  config: Config,
  id: string,
  source?: DiscoverySource,
): ResolvedCredential | undefined {
  const configured = findConfigured(config, id);
  if (configured || !source) return configured;
  const index = indexOf(config);
  const rule = index.rules.get(source.rule);
  if (!rule || rule.store !== source.store || idFromPath(source.path) !== id) return undefined;
  if (index.configuredPlaces.has(place(source.store, source.path))) return undefined;
  return discoveredCredential(config, rule, source.rule, source.path);
}

/** What a job carries to find its credential again without listing: the id, and where it was found. */
export function jobReference(credential: ResolvedCredential): {
  credentialId: string;
  discovery?: DiscoverySource;
} {
  return {
    credentialId: credential.id,
    ...(credential.discovery ? { discovery: credential.discovery } : {}),
  };
}

function collision(id: string, path: string, store: string, owner: ResolvedCredential): CertrotorError {
  const theirs = `store "${owner.store}" path "${owner.ref.path}"`;
  const message = owner.discovery
    ? `discovery: ${theirs} and store "${store}" path "${path}" both derive the credential id "${id}"`
    : `discovery: store "${store}" path "${path}" derives the credential id "${id}" of a configured credential (${theirs})`;
  return new CertrotorError("CONFIG_INVALID", message, {
    details: { credentialId: id, store, path, otherStore: owner.store, otherPath: owner.ref.path },
    hint: owner.discovery
      ? "rename or move one of the two secrets, or configure one of them with an id of its own (credentials[].path takes it out of discovery)"
      : "rename or move the discovered secret, or give the configured credential another id",
  });
}

/**
 * Every managed credential: configured ones first, then discovered ones (pages through each discovery
 * store). The client_id of a discovered credential is read from its material by the caller (plan/scan);
 * until then it is the empty string. A path already configured (same store and path) stays the
 * configured credential; two paths that derive one id are refused (CONFIG_INVALID naming both), since
 * one of them would silently never be rotated.
 */
export async function listCredentials(
  config: Config,
  stores: ReadonlyMap<string, SecretStore>,
  pageSize = 500,
): Promise<ResolvedCredential[]> {
  const out = config.credentials.map((c) => resolveConfigured(config, c));
  const seen = new Set(out.map((c) => place(c.store, c.ref.path)));
  const byId = new Map(out.map((c) => [c.id, c] as const));
  for (const rule of config.discovery) {
    const store = stores.get(rule.store);
    if (!store) throw new CertrotorError("CONFIG_INVALID", `discovery: no store named "${rule.store}"`);
    const key = discoveryRuleKey(rule);
    let cursor: string | undefined;
    do {
      const at = Date.now();
      const page = await store.list({
        ...(rule.prefix ? { prefix: rule.prefix } : {}),
        ...(rule.tag ? { tag: rule.tag } : {}),
        pageSize,
        ...(cursor ? { cursor } : {}),
      });
      const pending = page.pending ? new Set(page.pending) : undefined;
      for (const path of page.paths) {
        if (seen.has(place(rule.store, path))) continue;
        seen.add(place(rule.store, path));
        const credential: ResolvedCredential = discoveredCredential(config, rule, key, path);
        if (pending) credential.listed = { pending: pending.has(path), at };
        const owner = byId.get(credential.id);
        if (owner) throw collision(credential.id, path, rule.store, owner);
        byId.set(credential.id, credential);
        out.push(credential);
      }
      cursor = page.next;
    } while (cursor);
  }
  return out;
}

function unknownCredential(config: Config, id: string): CertrotorError {
  const known = config.credentials.map((c) => c.id);
  return new CertrotorError(
    "UNKNOWN_CREDENTIAL",
    `no credential "${id}" in the config${config.discovery.length ? " or discovered in its stores" : ""}${
      known.length ? ` (configured: ${known.slice(0, 10).join(", ")}${known.length > 10 ? ", ..." : ""})` : ""
    }`,
    { details: { credentialId: id } },
  );
}

export type CredentialLookup = (id: string, source?: DiscoverySource) => Promise<ResolvedCredential>;

/**
 * Resolves ids one after another (a sweep over journal records) with at most one listing of the stores
 * between them: the first id that needs a listing lists, the others are found in it.
 */
export function credentialLookup(config: Config, stores: ReadonlyMap<string, SecretStore>): CredentialLookup {
  let listed: Promise<ReadonlyMap<string, ResolvedCredential>> | undefined;
  return async (id, source) => {
    const known = knownCredential(config, id, source);
    if (known) return known;
    if (config.discovery.length === 0) throw unknownCredential(config, id);
    listed ??= listCredentials(config, stores).then((all) => new Map(all.map((c) => [c.id, c] as const)));
    const found = (await listed).get(id);
    if (!found) throw unknownCredential(config, id);
    return found;
  };
}

/**
 * The credential with this id, configured or discovered; UNKNOWN_CREDENTIAL otherwise. With `source` (from
 * job data) a discovered credential is rebuilt without a store request; without one it lists the stores.
 */
export function resolveCredential(
  config: Config,
  stores: ReadonlyMap<string, SecretStore>,
  id: string,
  source?: DiscoverySource,
): Promise<ResolvedCredential> {
  return credentialLookup(config, stores)(id, source);
}
