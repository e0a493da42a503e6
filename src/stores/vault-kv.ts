/**
 * The KV v2 calls the Vault store makes (api-docs/secret/kv/kv-v2), with Vault's answers turned into
 * plain results: a read is `ok`, `gone` (that version is soft-deleted or destroyed: 404 with an envelope)
 * or `missing` (404 `{"errors":[]}`); a CAS write reports a mismatch instead of throwing.
 *
 * Before its first call the store asks Vault what is mounted (`GET sys/internal/ui/mounts/<mount>`, the
 * preflight `vault kv` makes; any token with a rule under the mount may read it). A KV version 1 mount
 * answers KV v2 paths as plain keys: a read of `data/<path>` finds nothing and a write stores the whole
 * `{"data":…,"options":…}` body as a secret named `data/<path>`, so it must be refused before anything is
 * written: CONFIG_INVALID, not retried.
 */
import { CertrotorError, isCertrotorError } from "../errors.js";
import { assertSecretPath } from "../util/secret-path.js";
import type { VaultClient } from "./vault-client.js";
import { isVaultStatus, VaultStatusError } from "./vault-failure.js";

export type KvRead =
  | { kind: "ok"; doc: unknown; version: number }
  | { kind: "gone"; version: number }
  | { kind: "missing" };

export const CAS_MISMATCH = "check-and-set parameter did not match the current version";

/**
 * Each segment URL-encoded; leading/trailing slashes dropped. A `.`/`..` segment or a control character
 * is refused first (util/secret-path.ts): `../../sys/seal` must never reach another Vault route.
 */
export function encodePath(path: string): string {
  if (path !== "") assertSecretPath(path, "vault"); // "" is the mount's root folder (list)
  return path
    .split("/")
    .filter((segment) => segment !== "")
    .map(encodeURIComponent)
    .join("/");
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export class KvV2 {
  private checked: Promise<void> | undefined;

  constructor(
    private readonly client: VaultClient,
    private readonly mount: string,
    private readonly label: string,
  ) {}

  private notKvV2(problem: string, hint: string): CertrotorError {
    return new CertrotorError("CONFIG_INVALID", `${this.label}: the mount "${this.mount}" ${problem}`, {
      hint,
      retryable: false,
      details: { mount: this.mount },
    });
  }

  /** Resolves once the mount is known to be KV v2 (or Vault will not say); CONFIG_INVALID when it is not. */
  private ensureV2(): Promise<void> {
    this.checked ??= this.preflight().catch((error: unknown) => {
      // A transient failure is asked again next time; a wrong mount stays wrong.
      if (!isCertrotorError(error, "CONFIG_INVALID")) this.checked = undefined;
      throw error;
    });
    return this.checked;
  }

  private async preflight(): Promise<void> {
    const mount = encodePath(this.mount);
    let body: Record<string, unknown> | undefined;
    try {
      body = await this.client.request("GET", `sys/internal/ui/mounts/${mount}`);
    } catch (error) {
      // 403 is both "no such mount" and "no rule under it" (Vault answers them alike); 404 is a Vault without
      // the endpoint. The KV calls themselves then say what is wrong.
      if (isCertrotorError(error, "ACCESS_DENIED") || error instanceof VaultStatusError) return;
      throw error;
    }
    const data = record(record(body)?.data);
    const type = data?.type;
    if (typeof type !== "string") return;
    const path = typeof data?.path === "string" ? data.path : `${mount}/`;
    if (type !== "kv" && type !== "generic") {
      throw this.notKvV2(
        `is a "${type}" secrets engine, not KV version 2`,
        "set `mount` to the path of a KV v2 engine (vault secrets list)",
      );
    }
    if (path !== `${mount}/`) {
      throw this.notKvV2(
        `is a folder inside the KV mount "${path}", not a mount`,
        `set \`mount\` to "${path.replace(/\/$/, "")}" and put the rest in the credentials' paths`,
      );
    }
    const version = record(data?.options)?.version;
    if (version !== "2") {
      throw this.notKvV2(
        `is KV version ${typeof version === "string" && version !== "" ? version : "1"}; certrotor needs KV version 2 (versions, check-and-set)`,
        `upgrade the mount with \`vault kv enable-versioning ${path}\`, or point \`mount\` at a KV v2 engine`,
      );
    }
  }

  private route(kind: "data" | "metadata", path: string): string {
    return `${encodePath(this.mount)}/${kind}/${encodePath(path)}`;
  }

  /** A 404 that is not "nothing here": the mount is missing or not KV v2. */
  private noRoute(error: VaultStatusError, route: string): CertrotorError {
    return new CertrotorError(
      "CONFIG_INVALID",
      `${this.label}: Vault has no KV v2 route for ${route} (${error.errors.join("; ")})`,
      { hint: `check that a KV v2 engine is mounted at "${this.mount}/"`, details: { path: route } },
    );
  }

  /** Anything else Vault refused that the store never expects (a bug, or a Vault setting). */
  unexpected(error: unknown, what: string): unknown {
    if (!(error instanceof VaultStatusError)) return error;
    return new CertrotorError("INTERNAL", `${this.label}: ${what}: ${error.message}`, {
      details: { status: error.status },
    });
  }

  async read(path: string, version?: number): Promise<KvRead> {
    await this.ensureV2();
    const route = this.route("data", path) + (version ? `?version=${version}` : "");
    try {
      const body = await this.client.request("GET", route);
      const data = record(record(body)?.data);
      const version = record(data?.metadata)?.version;
      if (!data || typeof version !== "number") {
        throw this.notKvV2(
          `answered GET ${route} without data.metadata.version: it is not a KV version 2 engine`,
          "point `mount` at a KV v2 engine",
        );
      }
      return data.data === null || data.data === undefined
        ? { kind: "gone", version }
        : { kind: "ok", doc: data.data, version };
    } catch (error) {
      if (!isVaultStatus(error, 404)) throw this.unexpected(error, `GET ${route}`);
      // Deleted or destroyed versions answer 404 with the full envelope (data.metadata), not an errors array.
      const deleted = record(record(record(error.body)?.data)?.metadata)?.version;
      if (typeof deleted === "number") return { kind: "gone", version: deleted };
      if (error.errors.length > 0) throw this.noRoute(error, route);
      return { kind: "missing" };
    }
  }

  /** The new version, or "cas-mismatch" when `cas` is not the key's current version (0 = must not exist). */
  async write(path: string, doc: Record<string, unknown>, cas: number): Promise<number | "cas-mismatch"> {
    await this.ensureV2();
    const route = this.route("data", path);
    try {
      const body = await this.client.request("POST", route, { data: doc, options: { cas } });
      const version = record(record(body)?.data)?.version;
      if (typeof version !== "number") {
        throw this.notKvV2(
          `answered POST ${route} without data.version (${body === undefined ? "204" : "200"}): it is not a KV version 2 engine`,
          "point `mount` at a KV v2 engine; the write may have left a key at that path to delete",
        );
      }
      return version;
    } catch (error) {
      if (isVaultStatus(error, 400) && error.errors.includes(CAS_MISMATCH)) return "cas-mismatch";
      if (isVaultStatus(error, 404)) throw this.noRoute(error, route);
      throw this.unexpected(error, `POST ${route}`);
    }
  }

  /** Deletes the key's metadata and every version (204 whether or not it existed). */
  async deleteAll(path: string): Promise<void> {
    await this.ensureV2();
    const route = this.route("metadata", path);
    try {
      await this.client.request("DELETE", route);
    } catch (error) {
      if (isVaultStatus(error, 404)) throw this.noRoute(error, route);
      throw this.unexpected(error, `DELETE ${route}`);
    }
  }

  /** The keys directly under `folder` ("" or ending in "/"), sub-folders ending in "/"; [] when empty. */
  async list(folder: string): Promise<string[]> {
    await this.ensureV2();
    const route = `${this.route("metadata", folder)}/`.replace(/\/\/$/, "/");
    try {
      const keys = record(record(await this.client.request("LIST", route))?.data)?.keys;
      return Array.isArray(keys) ? keys.filter((key): key is string => typeof key === "string") : [];
    } catch (error) {
      if (isVaultStatus(error, 404) && error.errors.length === 0) return [];
      if (isVaultStatus(error, 404)) throw this.noRoute(error, route);
      throw this.unexpected(error, `LIST ${route}`);
    }
  }

  /** The key's current version number from its metadata (no secret data read), or undefined when absent. */
  async currentVersion(path: string): Promise<number | undefined> {
    await this.ensureV2();
    const route = this.route("metadata", path);
    try {
      const version = record(record(await this.client.request("GET", route))?.data)?.current_version;
      return typeof version === "number" && version > 0 ? version : undefined;
    } catch (error) {
      if (isVaultStatus(error, 404) && error.errors.length === 0) return undefined;
      if (isVaultStatus(error, 404)) throw this.noRoute(error, route);
      throw this.unexpected(error, `GET ${route}`);
    }
  }

  /** The key's custom_metadata ({} when none), or undefined when the key does not exist. */
  async customMetadata(path: string): Promise<Record<string, unknown> | undefined> {
    await this.ensureV2();
    const route = this.route("metadata", path);
    try {
      const data = record(record(await this.client.request("GET", route))?.data);
      return record(data?.custom_metadata) ?? {};
    } catch (error) {
      if (isVaultStatus(error, 404) && error.errors.length === 0) return undefined;
      if (isVaultStatus(error, 404)) throw this.noRoute(error, route);
      throw this.unexpected(error, `GET ${route}`);
    }
  }
}
