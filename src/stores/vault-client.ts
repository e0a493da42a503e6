/**
 * One Vault connection over the real `node-vault` client, shared by the KV v2 store and the Vault PKI
 * issuer: TLS trust from `caFile` (verification never off, whatever VAULT_SKIP_VERIFY says), sockets only to
 * the configured address (vault-transport.ts: a redirect elsewhere never carries the token), the namespace
 * header, auth (token or AppRole with renewal, backoff and revoke-self on close, vault-auth.ts), bounded
 * retries with exponential backoff and jitter, and the mapping of failures (vault-failure.ts). node-vault and
 * transport objects never leave this file: callers get plain JSON bodies, or a VaultStatusError for the statuses
 * they interpret (400, 404).
 */
import { readFile } from "node:fs/promises";
import nodeVault from "node-vault";
import type { VaultStoreConfig } from "../config/schema.js";
import { CertrotorError, type ErrorCode } from "../errors.js";
import { type LoginBackoff, VaultAuth } from "./vault-auth.js";
import { classify, describe, type Failure, failureError, retryable } from "./vault-failure.js";
import { vaultHttp } from "./vault-http.js";
import { type PinnedAgents, pinnedAgents } from "./vault-transport.js";

export { isVaultStatus, VaultStatusError, vaultMessages } from "./vault-failure.js";

export type VaultConnectionConfig = Pick<
  VaultStoreConfig,
  "address" | "namespace" | "auth" | "caFile" | "requestTimeout"
>;

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface VaultClientOptions {
  /** Who is talking, for messages and logs, e.g. `vault store "main"`. */
  label: string;
  logger?: (line: object) => void;
  /** Default: 5 attempts, 50 ms doubling to at most 800 ms, each delay jittered to 50–100 %. */
  retry?: RetryPolicy;
  /** Code of the error when Vault stays unavailable (default STORE_UNAVAILABLE). */
  unavailableCode?: ErrorCode;
  /** Delays between failed AppRole logins (default 1 s doubling to 5 min). */
  loginBackoff?: LoginBackoff;
}

export type VaultMethod = "GET" | "LIST" | "POST" | "DELETE";
type Body = Record<string, unknown> | undefined;

export interface VaultClient {
  /** The body of a 200 (the envelope), or undefined for 204. */
  request(method: VaultMethod, path: string, body?: object): Promise<Body>;
  /** Same, without any token: unauthenticated paths. */
  requestUnauthenticated(method: VaultMethod, path: string, body?: object): Promise<Body>;
  /** Revokes a token this connection obtained by logging in (never a configured one), then closes sockets. */
  close(): Promise<void>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 50, maxDelayMs: 800 };

/** The slice of node-vault's client used here (its generic request, and the env-derived defaults to reset). */
interface RawClient {
  request(
    options: { method: string; path: string; json?: object; headers: Record<string, string> } & object,
  ): Promise<unknown>;
  token: string;
  namespace?: string;
}

/** The address without credentials or path, safe for messages. */
function origin(address: string): string {
  try {
    return new URL(address).origin;
  } catch {
    return "the configured address";
  }
}

async function readCa(config: VaultConnectionConfig, label: string): Promise<Buffer | undefined> {
  if (!config.caFile) return undefined;
  try {
    return await readFile(config.caFile);
  } catch (error) {
    throw new CertrotorError("CONFIG_INVALID", `${label}: cannot read caFile "${config.caFile}"`, {
      cause: error,
    });
  }
}

class RetryingVaultClient implements VaultClient {
  private readonly auth: VaultAuth;
  private readonly where: string;
  private readonly log: (line: object) => void;

  constructor(
    private readonly vault: RawClient,
    /** The transport's sockets, closed with the client. */
    private readonly agents: PinnedAgents,
    config: VaultConnectionConfig,
    private readonly options: VaultClientOptions,
  ) {
    this.where = `${options.label} at ${origin(config.address)}`;
    this.log = options.logger ?? (() => {});
    this.auth = new VaultAuth(config.auth, {
      label: options.label,
      log: this.log,
      send: (method, path, body, token, once) =>
        this.call(method, path, body, async () => token, false, once ? 1 : undefined),
      ...(options.loginBackoff ? { backoff: options.loginBackoff } : {}),
    });
  }

  request(method: VaultMethod, path: string, body?: object): Promise<Body> {
    return this.call(method, path, body, () => this.auth.token(), true);
  }

  requestUnauthenticated(method: VaultMethod, path: string, body?: object): Promise<Body> {
    return this.call(method, path, body, async () => undefined, false);
  }

  async close(): Promise<void> {
    try {
      await this.auth.close();
    } finally {
      this.agents.httpAgent.destroy();
      this.agents.httpsAgent.destroy();
    }
  }

  private async once(
    method: VaultMethod,
    path: string,
    body: object | undefined,
    token: string | undefined,
  ): Promise<Body> {
    const headers: Record<string, string> = token ? { "X-Vault-Token": token } : {};
    const result = await this.vault.request({
      method,
      path: `/${path}`,
      headers,
      ...(body ? { json: body } : {}),
    });
    return result === "" || result === undefined ? undefined : (result as Record<string, unknown>);
  }

  /** One call, retried on 5xx/429/transport failures; `reauth` lets an AppRole token be replaced once on 403. */
  private async call(
    method: VaultMethod,
    path: string,
    body: object | undefined,
    token: () => Promise<string | undefined>,
    reauth: boolean,
    maxAttempts?: number,
  ): Promise<Body> {
    const attempts = maxAttempts ?? this.options.retry?.attempts ?? DEFAULT_RETRY.attempts;
    let reauthed = !reauth;
    for (let attempt = 1; ; attempt++) {
      const used = await token();
      let failure: Failure;
      try {
        return await this.once(method, path, body, used);
      } catch (error) {
        failure = classify(error);
      }
      if (
        failure.kind === "status" &&
        failure.status === 403 &&
        !reauthed &&
        (await this.auth.onForbidden(failure.errors, used))
      ) {
        reauthed = true;
        continue;
      }
      if (!retryable(failure) || attempt >= attempts) {
        throw failureError(failure, {
          where: this.where,
          method,
          path,
          attempts: attempt,
          denialHint: this.auth.denialHint(failure.kind === "status" ? failure.errors : []),
          unavailableCode: this.options.unavailableCode ?? "STORE_UNAVAILABLE",
        });
      }
      await this.backoff(attempt, { method, path, reason: describe(failure) });
    }
  }

  private async backoff(
    attempt: number,
    what: { method: string; path: string; reason: string },
  ): Promise<void> {
    const policy = this.options.retry ?? DEFAULT_RETRY;
    const delay =
      Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    this.log({
      msg: "vault request retried",
      store: this.options.label,
      ...what,
      attempt,
      delayMs: Math.round(delay),
    });
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export async function createVaultClient(
  config: VaultConnectionConfig,
  options: VaultClientOptions,
): Promise<VaultClient> {
  const ca = await readCa(config, options.label);
  const agents = pinnedAgents(config.address, ca);
  const vaultOptions: NonNullable<Parameters<typeof nodeVault>[0]> = {
    endpoint: config.address,
    ...(config.namespace ? { namespace: config.namespace } : {}),
    // node-vault's own transport (axios) is never built, so VAULT_SKIP_VERIFY (its `strictSSL` default) has
    // nothing to turn off: the pinned https agent always verifies.
    "request-promise": vaultHttp(config.address, agents, config.requestTimeout),
  };
  const vault = nodeVault(vaultOptions) as unknown as RawClient;
  // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE from the environment; only the config counts.
  vault.token = "";
  vault.namespace = config.namespace ?? "";
  return new RetryingVaultClient(vault, agents, config, options);
}
