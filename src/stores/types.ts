/**
 * The secret-store port: only the calls the rotation saga makes. Adapters (file.ts, vault.ts, aws.ts)
 * live beside this file; SDK types never leave them.
 *
 * Vocabulary:
 * - current: the material consumers read today.
 * - pending: material staged for one rotation (keyed by rotation id), invisible to consumers.
 * - previous: the material that was current before the last promote.
 */

export type StoreKind = "file" | "vault" | "aws";

/**
 * Logical names of the fields certrotor manages. Consumers may read them under other names:
 * see FieldMap.
 */
export const MATERIAL_FIELDS = [
  "clientId",
  "clientSecret",
  "certPem",
  "chainPem",
  "keyPem",
  "pfxBase64",
  "pfxPassphrase",
  "fingerprint",
  "notAfter",
  "rotationId",
] as const;
export type MaterialField = (typeof MATERIAL_FIELDS)[number];

/** The material of one credential, as the saga sees it (after field mapping). */
export interface Material {
  /** The bank's client_id. */
  clientId: string;
  /** client_secret value or a reference to it, exactly as the store already held it (never rewritten). */
  clientSecret?: string;
  /** Leaf certificate, PEM. */
  certPem: string;
  /** Issuer chain (intermediates and CA), PEM, possibly several blocks. */
  chainPem?: string;
  /** Private key, PKCS#8 PEM. */
  keyPem: string;
  /** PKCS#12 (base64) for consumers that want PFX. */
  pfxBase64?: string;
  pfxPassphrase?: string;
  /** SHA-256 of the leaf cert DER, lowercase hex without separators. */
  fingerprint: string;
  /** Leaf notAfter, ISO 8601 UTC. */
  notAfter: string;
  /** The rotation that produced this material (absent for material certrotor did not write). */
  rotationId?: string;
}

/**
 * Maps logical field names to the key names consumers read in the stored document. Unmapped fields use
 * their logical name. Keys in the stored document that certrotor does not manage are preserved on write.
 */
export type FieldMap = Partial<Record<MaterialField, string>>;

/** Where one credential's material lives in a store. */
export interface CredentialRef {
  /** certrotor's credential id (config `credentials[].id`). */
  credentialId: string;
  /** Store-specific location: Vault KV path under the mount, AWS secret name/ARN, file-store key. */
  path: string;
  fieldMap?: FieldMap;
}

/** A version of a credential's material, with the store's own version token for compare-and-set. */
export interface StoredMaterial {
  material: Material;
  /** Opaque to the saga: Vault KV version number, AWS VersionId, file-store sequence number. */
  version: string;
  /** Keys of the stored document certrotor does not manage, kept verbatim on write. */
  extra?: Record<string, unknown>;
}

export interface PendingMaterial extends StoredMaterial {
  rotationId: string;
}

export interface ListOptions {
  /** Path/name prefix to discover credentials under. */
  prefix?: string;
  /** Tag filter (AWS tags, Vault custom_metadata, file-store tags). */
  tag?: { key: string; value?: string };
  /** Page size hint; adapters may return fewer. */
  pageSize?: number;
  /** Cursor from a previous page's `next`. */
  cursor?: string;
}

export interface ListPage {
  /** Store paths of managed credentials on this page. */
  paths: string[];
  /**
   * The paths of this page that held pending material when the listing was made, where the listing itself
   * shows it at no extra request (Vault: the `<path><pendingSuffix>` sibling among the LIST keys; AWS: an
   * AWSPENDING stage in ListSecrets' SecretVersionsToStages). A hint, not a read: a path missing from it
   * had no pending then, but may have one since (a rotation that started after the listing). Absent when
   * the store cannot tell from its listing (the file store keeps pending inside the document, Vault with
   * `pendingPrefix` keeps it in a folder the listing does not walk): callers read pending for every path.
   */
  pending?: string[];
  /** Cursor for the next page, absent on the last one. */
  next?: string;
}

export interface SecretStore {
  readonly kind: StoreKind;
  /** Config name of this store instance. */
  readonly name: string;

  /** Current material. NOT_FOUND when the secret does not exist; MATERIAL_INVALID naming the field when malformed. */
  readCurrent(ref: CredentialRef): Promise<StoredMaterial>;

  /**
   * Stage material for a rotation. Idempotent: the same rotation id with the same material is a no-op;
   * the same rotation id with different material overwrites only while not promoted. A pending version of
   * another rotation id → PENDING_CONFLICT (the saga drops stale pendings explicitly).
   */
  writePending(ref: CredentialRef, rotationId: string, material: Material): Promise<StoredMaterial>;

  /** The staged material, or null when nothing is pending. */
  readPending(ref: CredentialRef): Promise<PendingMaterial | null>;

  /**
   * Make the pending material of `rotationId` current, if current is still `expectedCurrentVersion`
   * (CAS_CONFLICT otherwise). Idempotent: when current already holds this rotation's material, returns it.
   * The material that was current becomes previous. Pending is cleared.
   */
  promote(ref: CredentialRef, rotationId: string, expectedCurrentVersion: string): Promise<StoredMaterial>;

  /** Remove pending material. With a rotation id, only that rotation's pending. Absent pending is success. */
  dropPending(ref: CredentialRef, rotationId?: string): Promise<void>;

  /** The material current before the last promote, or null when there is none. */
  readPrevious(ref: CredentialRef): Promise<StoredMaterial | null>;

  /** One page of managed credential paths. */
  list(options: ListOptions): Promise<ListPage>;

  /** Release connections and timers. */
  close(): Promise<void>;
}

/**
 * Optional capability: write the first version of a credential that has no current material yet
 * (`certrotor import`). Only where staging cannot do it: AWS makes a secret's first version current at
 * once, so staging into an empty secret is refused; the file store writes a first document, and Vault
 * promotes with cas=0, through the port itself.
 */
export interface FirstVersionWriter {
  /** Writes `material` as the first current version; CAS_CONFLICT when current material exists meanwhile. */
  writeFirstVersion(ref: CredentialRef, writeId: string, material: Material): Promise<StoredMaterial>;
}

/**
 * Optional capability: the version token of current material by the cheapest call the store has, without
 * reading the secret values (Vault: KV metadata current_version; AWS: DescribeSecret's AWSCURRENT version
 * id; the file store: the document re-read only when its file changed). Consumers that follow rotations
 * (certrotor/client) poll it and read current material only when it moved.
 */
export interface CurrentVersionReader {
  /** What readCurrent(ref).version would answer now; NOT_FOUND when the secret does not exist. */
  currentVersion(ref: CredentialRef): Promise<string>;
}

/**
 * Optional capability: current and pending material from one read, where the store keeps both in one
 * place (the file store's document): plan and scan need both, and each read of that document decrypts
 * and parses the whole of it (its history included).
 */
export interface CurrentAndPendingReader {
  readCurrentAndPending(
    ref: CredentialRef,
  ): Promise<{ current: StoredMaterial; pending: PendingMaterial | null }>;
}

/** Current and pending material: one read where the store has CurrentAndPendingReader, else two. */
export async function readCurrentAndPending(
  store: SecretStore,
  ref: CredentialRef,
): Promise<{ current: StoredMaterial; pending: PendingMaterial | null }> {
  const both = (store as Partial<CurrentAndPendingReader>).readCurrentAndPending;
  if (typeof both === "function") return both.call(store, ref);
  const current = await store.readCurrent(ref);
  return { current, pending: await store.readPending(ref) };
}

/** True when `store` has the CurrentVersionReader capability. */
export function readsCurrentVersion(store: SecretStore): store is SecretStore & CurrentVersionReader {
  return typeof (store as Partial<CurrentVersionReader>).currentVersion === "function";
}
