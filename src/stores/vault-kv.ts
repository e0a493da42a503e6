/**
 * The KV v2 calls the Vault store makes (api-docs/secret/kv/kv-v2), with Vault's answers turned into
 * plain results: a read is `ok`, `gone` (that version is soft-deleted or destroyed: 404 with an envelope)
 * or `missing` (404 `{"errors":[]}`); a CAS write reports a mismatch instead of throwing.
 */
import { CertrotorError } from "../errors.js";
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
  constructor(
    private readonly client: VaultClient,
    private readonly mount: string,
    private readonly label: string,
  ) {}

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
    const route = this.route("data", path) + (version ? `?version=${version}` : "");
    try {
      const body = await this.client.request("GET", route);
      const data = record(record(body)?.data);
      const version = record(data?.metadata)?.version;
      if (!data || typeof version !== "number") {
        throw new CertrotorError(
          "INTERNAL",
          `${this.label}: GET ${route} answered without data.metadata.version`,
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
    const route = this.route("data", path);
    try {
      const body = await this.client.request("POST", route, { data: doc, options: { cas } });
      const version = record(record(body)?.data)?.version;
      if (typeof version !== "number") {
        throw new CertrotorError("INTERNAL", `${this.label}: POST ${route} answered without data.version`);
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

  /** The key's custom_metadata ({} when none), or undefined when the key does not exist. */
  async customMetadata(path: string): Promise<Record<string, unknown> | undefined> {
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
