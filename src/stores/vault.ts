/**
 * The secret store on HashiCorp Vault KV v2.
 *
 * - current: the latest version of `<mount>/data/<path>`; its KV version number is the CAS token.
 * - pending: the latest version of `<mount>/data/<pendingPrefix><path>` when `pendingPrefix` is set (a prefix
 *   of its own, so a policy can grant `delete` on pendings only), else of the sibling `<path><pendingSuffix>`;
 *   it holds the material and the rotation id, invisible to consumers of `<path>`.
 * - promote: writes the pending material as a new version of `<path>` with `options.cas` = the version
 *   read in plan, then deletes the pending key (metadata DELETE). Extra keys of current are kept.
 * - previous: the newest readable version before current (`?version=N-1`, skipping deleted/destroyed).
 * - list: metadata LIST walked recursively, paged here (Vault's LIST has no paging), pendings skipped (both
 *   layouts, so sibling pendings left from before a switch to pendingPrefix are never taken for
 *   credentials), tag filter on custom_metadata; with sibling pendings each page says which paths have one.
 */
import type { VaultStoreConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { decodeMaterial, encodeMaterial, sameMaterial } from "./material.js";
import {
  type CredentialRef,
  type ListOptions,
  type ListPage,
  MATERIAL_FIELDS,
  type Material,
  type CurrentVersionReader,
  type PendingMaterial,
  type SecretStore,
  type StoredMaterial,
} from "./types.js";
import type { LoginBackoff } from "./vault-auth.js";
import { createVaultClient } from "./vault-client.js";
import { type KvRead, KvV2 } from "./vault-kv.js";
import { listPage } from "./vault-list.js";

export interface VaultStoreOptions {
  /** Receives one JSON object per notable event (retries, logins, renewals); never secret values. */
  logger?: (line: object) => void;
  /** Delays between failed AppRole logins (default 1 s doubling to 5 min). */
  loginBackoff?: LoginBackoff;
}

/** Versions readPrevious looks back at most (Vault keeps 10 by default, 100 is far beyond any setting). */
const PREVIOUS_LOOKBACK = 100;

function rotationIdOf(doc: unknown, ref: CredentialRef): unknown {
  const key = ref.fieldMap?.rotationId ?? "rotationId";
  return doc !== null && typeof doc === "object" ? (doc as Record<string, unknown>)[key] : undefined;
}

/** Keys of a stored document that certrotor does not manage (kept verbatim on promote). */
function extraOf(doc: unknown, ref: CredentialRef): Record<string, unknown> {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return {};
  const managed = new Set(MATERIAL_FIELDS.map((field) => ref.fieldMap?.[field] ?? field));
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !managed.has(key)));
}

/** The stored document: managed fields under their mapped names, unmanaged keys verbatim (any JSON type). */
function documentOf(
  material: Material,
  ref: CredentialRef,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return { ...extra, ...encodeMaterial(material, ref.fieldMap) };
}

class VaultStore implements SecretStore, CurrentVersionReader {
  readonly kind = "vault" as const;
  private readonly label: string;

  constructor(
    readonly name: string,
    private readonly config: VaultStoreConfig,
    private readonly kv: KvV2,
    private readonly closeClient: () => Promise<void>,
  ) {
    this.label = `vault store "${name}"`;
  }

  /** Where the pending material of `path` lives. */
  private pendingPath(path: string): string {
    const { pendingPrefix, pendingSuffix } = this.config;
    return pendingPrefix !== undefined ? pendingPrefix + path : path + pendingSuffix;
  }

  /** True for a key that holds pending material (in either layout), never a credential. */
  private isPending = (path: string): boolean =>
    path.endsWith(this.config.pendingSuffix) ||
    (this.config.pendingPrefix !== undefined && path.startsWith(this.config.pendingPrefix));

  /** A credential inside the pending prefix would share keys with pendings: a config mistake. */
  private checkRef(ref: CredentialRef): void {
    const { pendingPrefix } = this.config;
    if (pendingPrefix === undefined || !ref.path.startsWith(pendingPrefix)) return;
    throw new CertrotorError(
      "CONFIG_INVALID",
      `${this.label}: credential "${ref.credentialId}" has path "${ref.path}" inside pendingPrefix "${pendingPrefix}"`,
      {
        hint: "keep credential paths outside the store's pendingPrefix",
        details: { credentialId: ref.credentialId, path: ref.path },
      },
    );
  }

  private where(ref: CredentialRef, pending = false): string {
    const path = pending ? this.pendingPath(ref.path) : ref.path;
    return `credential "${ref.credentialId}" at ${this.config.mount}/data/${path}`;
  }

  private stored(read: Extract<KvRead, { kind: "ok" }>, ref: CredentialRef, pending = false): StoredMaterial {
    const { material, extra } = decodeMaterial(read.doc, {
      ...ref,
      path: `${this.config.mount}/data/${pending ? this.pendingPath(ref.path) : ref.path}`,
    });
    return { material, version: String(read.version), extra };
  }

  async readCurrent(ref: CredentialRef): Promise<StoredMaterial> {
    this.checkRef(ref);
    const read = await this.kv.read(ref.path);
    if (read.kind !== "ok") {
      throw new CertrotorError("NOT_FOUND", `${this.label}: no current material for ${this.where(ref)}`, {
        details: { credentialId: ref.credentialId, path: ref.path },
      });
    }
    return this.stored(read, ref);
  }

  /** The metadata's current_version: one small GET that carries no secret values. */
  async currentVersion(ref: CredentialRef): Promise<string> {
    this.checkRef(ref);
    const version = await this.kv.currentVersion(ref.path);
    if (version === undefined) {
      throw new CertrotorError("NOT_FOUND", `${this.label}: no current material for ${this.where(ref)}`, {
        details: { credentialId: ref.credentialId, path: ref.path },
      });
    }
    return String(version);
  }

  async readPending(ref: CredentialRef): Promise<PendingMaterial | null> {
    this.checkRef(ref);
    const read = await this.kv.read(this.pendingPath(ref.path));
    if (read.kind !== "ok") return null;
    const stored = this.stored(read, ref, true);
    const rotationId = stored.material.rotationId;
    if (!rotationId) {
      const field = ref.fieldMap?.rotationId ?? "rotationId";
      throw new CertrotorError(
        "MATERIAL_INVALID",
        `${this.label}: pending material of ${this.where(ref, true)} is missing field "${field}"`,
        {
          details: { credentialId: ref.credentialId, path: ref.path, field },
        },
      );
    }
    return { ...stored, rotationId };
  }

  async writePending(ref: CredentialRef, rotationId: string, material: Material): Promise<StoredMaterial> {
    this.checkRef(ref);
    const wanted: Material = { ...material, rotationId };
    for (let round = 1; ; round++) {
      const current = await this.kv.read(ref.path);
      if (current.kind === "ok" && rotationIdOf(current.doc, ref) === rotationId) {
        // Already promoted: staging again must not create a new pending.
        const stored = this.stored(current, ref);
        if (sameMaterial(stored.material, wanted)) return stored;
        throw new CertrotorError(
          "PENDING_CONFLICT",
          `${this.label}: rotation "${rotationId}" was already promoted for ${this.where(ref)} with other material`,
        );
      }
      const pending = await this.kv.read(this.pendingPath(ref.path));
      if (pending.kind === "ok") {
        const other = rotationIdOf(pending.doc, ref);
        if (other !== rotationId) {
          throw new CertrotorError(
            "PENDING_CONFLICT",
            `${this.label}: ${this.where(ref, true)} holds pending material of rotation "${String(other)}"`,
            {
              details: {
                credentialId: ref.credentialId,
                path: ref.path,
                rotationId: typeof other === "string" ? other : undefined,
              },
            },
          );
        }
        const stored = this.stored(pending, ref, true);
        if (sameMaterial(stored.material, wanted)) return stored;
      }
      const cas = pending.kind === "missing" ? 0 : pending.version;
      // The pending document carries current's unmanaged keys, so it reads as what promote will write.
      const extra = current.kind === "ok" ? extraOf(current.doc, ref) : {};
      const doc = documentOf(wanted, ref, extra);
      const version = await this.kv.write(this.pendingPath(ref.path), doc, cas);
      if (version !== "cas-mismatch") return { material: wanted, version: String(version), extra };
      if (round >= 2) {
        throw new CertrotorError(
          "CAS_CONFLICT",
          `${this.label}: ${this.where(ref, true)} changed while staging rotation "${rotationId}"`,
        );
      }
    }
  }

  async promote(
    ref: CredentialRef,
    rotationId: string,
    expectedCurrentVersion: string,
  ): Promise<StoredMaterial> {
    this.checkRef(ref);
    const current = await this.kv.read(ref.path);
    if (current.kind === "ok" && rotationIdOf(current.doc, ref) === rotationId)
      return this.finishPromote(ref, rotationId, current);
    const pending = await this.readPending(ref);
    if (!pending) {
      throw new CertrotorError(
        "NOT_FOUND",
        `${this.label}: nothing pending for rotation "${rotationId}" of ${this.where(ref)}`,
        {
          details: { credentialId: ref.credentialId, path: ref.path },
        },
      );
    }
    if (pending.rotationId !== rotationId) {
      throw new CertrotorError(
        "PENDING_CONFLICT",
        `${this.label}: ${this.where(ref, true)} holds rotation "${pending.rotationId}", not "${rotationId}"`,
      );
    }
    if (!/^\d+$/.test(expectedCurrentVersion)) {
      throw new CertrotorError(
        "CAS_CONFLICT",
        `${this.label}: "${expectedCurrentVersion}" is not a Vault KV version of ${this.where(ref)}`,
      );
    }
    const cas = Number(expectedCurrentVersion);
    const extra = current.kind === "ok" ? extraOf(current.doc, ref) : {};
    const version = await this.kv.write(ref.path, documentOf(pending.material, ref, extra), cas);
    if (version === "cas-mismatch") {
      // A lost answer to our own write looks like a mismatch on retry: check who wrote current.
      const now = await this.kv.read(ref.path);
      if (now.kind === "ok" && rotationIdOf(now.doc, ref) === rotationId)
        return this.finishPromote(ref, rotationId, now);
      const actual = now.kind === "missing" ? "none" : String(now.version);
      throw new CertrotorError(
        "CAS_CONFLICT",
        `${this.label}: current of ${this.where(ref)} is version ${actual}, expected ${expectedCurrentVersion}`,
        {
          details: {
            credentialId: ref.credentialId,
            path: ref.path,
            expected: expectedCurrentVersion,
            actual,
          },
        },
      );
    }
    await this.kv.deleteAll(this.pendingPath(ref.path));
    return { material: pending.material, version: String(version), extra };
  }

  /** Current already holds this rotation: clear its pending (if still there) and return current. */
  private async finishPromote(
    ref: CredentialRef,
    rotationId: string,
    current: Extract<KvRead, { kind: "ok" }>,
  ): Promise<StoredMaterial> {
    await this.dropPending(ref, rotationId);
    return this.stored(current, ref);
  }

  async dropPending(ref: CredentialRef, rotationId?: string): Promise<void> {
    this.checkRef(ref);
    const path = this.pendingPath(ref.path);
    if (rotationId !== undefined) {
      const pending = await this.kv.read(path);
      if (pending.kind === "missing") return;
      if (pending.kind === "ok" && rotationIdOf(pending.doc, ref) !== rotationId) return;
    }
    await this.kv.deleteAll(path);
  }

  async readPrevious(ref: CredentialRef): Promise<StoredMaterial | null> {
    this.checkRef(ref);
    const current = await this.kv.read(ref.path);
    if (current.kind === "missing") return null;
    const oldest = Math.max(1, current.version - PREVIOUS_LOOKBACK);
    for (let version = current.version - 1; version >= oldest; version--) {
      const read = await this.kv.read(ref.path, version);
      if (read.kind === "ok") return this.stored(read, ref);
      // Pruned by max_versions (or never written): nothing older survives either.
      if (read.kind === "missing") return null;
    }
    return null;
  }

  list(options: ListOptions): Promise<ListPage> {
    const { pendingPrefix, pendingSuffix } = this.config;
    return listPage(
      this.kv,
      { isPending: this.isPending, siblingSuffix: pendingPrefix === undefined ? pendingSuffix : undefined },
      options,
    );
  }

  close(): Promise<void> {
    return this.closeClient();
  }
}

/** A SecretStore on Vault KV v2. Does not contact Vault until the first call (AppRole logs in then). */
export async function createVaultStore(
  name: string,
  config: VaultStoreConfig,
  options: VaultStoreOptions = {},
): Promise<SecretStore> {
  const label = `vault store "${name}"`;
  const client = await createVaultClient(config, {
    label,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.loginBackoff ? { loginBackoff: options.loginBackoff } : {}),
  });
  const kv = new KvV2(client, config.mount, label);
  return new VaultStore(name, config, kv, () => client.close());
}
