/**
 * One Vault connection over the real `node-vault` client, shared by the KV v2 store and the Vault PKI
 * issuer: TLS trust from `caFile` (verification never off), the namespace header, auth (token or AppRole
 * with renewal, vault-auth.ts), bounded retries with exponential backoff and jitter, and the mapping of
 * failures to CertrotorError. node-vault and axios objects never leave this file: callers get plain JSON
 * bodies, or a VaultStatusError for the statuses they must interpret themselves (400, 404).
 */
import { readFile } from "node:fs/promises";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import nodeVault from "node-vault";
import type { VaultStoreConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { VaultAuth } from "./vault-auth.js";

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
}

/** A Vault answer the caller interprets itself (400, 404): status, Vault's messages and body. */
export class VaultStatusError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    /** The JSON body: `{"errors":[...]}`, or the full envelope of a deleted KV version. */
    readonly body: unknown,
  ) {
    super(`Vault answered ${status}${errors.length > 0 ? `: ${errors.join("; ")}` : ""}`);
    this.name = "VaultStatusError";
  }
}

export function isVaultStatus(error: unknown, status?: number): error is VaultStatusError {
  return error instanceof VaultStatusError && (status === undefined || error.status === status);
}

export type VaultMethod = "GET" | "LIST" | "POST" | "DELETE";

export interface VaultClient {
  /** The body of a 200 (the envelope), or undefined for 204. */
  request(method: VaultMethod, path: string, body?: object): Promise<Record<string, unknown> | undefined>;
  /** Same, without the client token: login calls. */
  requestUnauthenticated(
    method: VaultMethod,
    path: string,
    body?: object,
  ): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 50, maxDelayMs: 800 };
const RETRYABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ECONNABORTED",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
]);

type Failure =
  | { kind: "status"; status: number; errors: string[]; body: unknown }
  | { kind: "network"; code: string; message: string };

/** Vault's messages, one line each: go-multierror's "1 error occurred:\n\t* permission denied\n\n" → "permission denied". */
export function vaultMessages(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((entry) => {
    const text = String(entry);
    const items = [...text.matchAll(/^\t\* (.*)$/gm)].map((m) => m[1]!.trim());
    return items.length > 0 ? items : [text.replace(/\s+/g, " ").trim()];
  });
}

/** Reads what node-vault/axios threw without keeping the object (its config carries the token header). */
function classify(error: unknown): Failure {
  const response = (error as { response?: { statusCode?: unknown; body?: unknown } } | null)?.response;
  if (response && typeof response.statusCode === "number") {
    return {
      kind: "status",
      status: response.statusCode,
      errors: vaultMessages(response.body),
      body: response.body,
    };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return {
    kind: "network",
    code: typeof code === "string" ? code : "UNKNOWN",
    message: message || String(code),
  };
}

/** 5xx, 429 and transport failures; TLS verification failures are final (a retry cannot fix trust). */
function retryable(failure: Failure): boolean {
  if (failure.kind === "status") return failure.status === 429 || failure.status >= 500;
  return RETRYABLE_CODES.has(failure.code) || !/CERT|SSL|TLS|SELF_SIGNED|SIGNATURE/.test(failure.code);
}

function describe(failure: Failure): string {
  if (failure.kind === "network")
    return failure.message.includes(failure.code) ? failure.message : `${failure.code}: ${failure.message}`;
  return `Vault answered ${failure.status}${failure.errors.length > 0 ? ` (${failure.errors.join("; ")})` : ""}`;
}

/** The address without credentials or path, safe for messages. */
function origin(address: string): string {
  try {
    return new URL(address).origin;
  } catch {
    return "the configured address";
  }
}

interface RawClient {
  request(
    options: { method: string; path: string; json?: object; headers: Record<string, string> } & object,
  ): Promise<unknown>;
  token: string;
  namespace?: string;
}

export async function createVaultClient(
  config: VaultConnectionConfig,
  options: VaultClientOptions,
): Promise<VaultClient> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const log = options.logger ?? (() => {});
  const where = `${options.label} at ${origin(config.address)}`;
  let ca: Buffer | undefined;
  if (config.caFile) {
    try {
      ca = await readFile(config.caFile);
    } catch (error) {
      throw new CertrotorError("CONFIG_INVALID", `${options.label}: cannot read caFile "${config.caFile}"`, {
        cause: error,
      });
    }
  }
  const httpAgent = new HttpAgent({ keepAlive: true });
  // rejectUnauthorized stays at its default (true); `ca` only adds trust.
  const httpsAgent = new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) });
  // node-vault's read/write merge these into every call; its request() does not, so once() spreads them.
  const requestOptions = { httpAgent, httpsAgent, timeout: config.requestTimeout, strictSSL: true };
  const vaultOptions: NonNullable<Parameters<typeof nodeVault>[0]> & { rpDefaults: { strictSSL: boolean } } =
    {
      endpoint: config.address,
      ...(config.namespace ? { namespace: config.namespace } : {}),
      // Overrides node-vault's `strictSSL: !VAULT_SKIP_VERIFY`: the environment never turns verification off.
      rpDefaults: { strictSSL: true },
      requestOptions,
    };
  const vault = nodeVault(vaultOptions) as unknown as RawClient;
  // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE from the environment; only the config counts.
  vault.token = "";
  vault.namespace = config.namespace ?? "";

  async function once(
    method: VaultMethod,
    path: string,
    body: object | undefined,
    token: string | undefined,
  ) {
    const headers: Record<string, string> = token ? { "X-Vault-Token": token } : {};
    const result = await vault.request({
      ...requestOptions,
      method,
      path: `/${path}`,
      headers,
      ...(body ? { json: body } : {}),
    });
    return result === "" || result === undefined ? undefined : (result as Record<string, unknown>);
  }

  function fail(method: VaultMethod, path: string, failure: Failure, attempts: number): Error {
    if (failure.kind === "status" && failure.status === 403) {
      return new CertrotorError(
        "ACCESS_DENIED",
        `${where}: ${method} ${path} was refused (403): ${failure.errors.join("; ") || "permission denied"}`,
        { hint: auth.denialHint(failure.errors), details: { status: 403, path } },
      );
    }
    if (failure.kind === "status" && !retryable(failure)) {
      return new VaultStatusError(failure.status, failure.errors, failure.body);
    }
    const tls = failure.kind === "network" && !retryable(failure);
    return new CertrotorError(
      "STORE_UNAVAILABLE",
      `${where}: ${method} ${path} failed${tls ? "" : ` after ${attempts} attempts`}: ${describe(failure)}`,
      {
        cause: new Error(describe(failure)),
        retryable: !tls,
        ...(tls ? { hint: "the TLS connection to Vault failed: check `address` and `caFile`" } : {}),
        details: {
          path,
          attempts,
          ...(failure.kind === "status" ? { status: failure.status } : { code: failure.code }),
        },
      },
    );
  }

  /** One call, retried on 5xx/429/connection errors; `reauth` lets an AppRole token be replaced once on 403. */
  async function withRetry(
    method: VaultMethod,
    path: string,
    body: object | undefined,
    token: () => Promise<string | undefined>,
    reauth: boolean,
  ): Promise<Record<string, unknown> | undefined> {
    let reauthed = !reauth;
    for (let attempt = 1; ; attempt++) {
      const used = await token();
      let failure: Failure;
      try {
        return await once(method, path, body, used);
      } catch (error) {
        failure = classify(error);
      }
      const forbidden = failure.kind === "status" && failure.status === 403;
      if (
        forbidden &&
        !reauthed &&
        (await auth.onForbidden(failure.kind === "status" ? failure.errors : [], used))
      ) {
        reauthed = true;
        continue;
      }
      if (!retryable(failure) || attempt >= retry.attempts) throw fail(method, path, failure, attempt);
      const delay =
        Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      log({
        msg: "vault request retried",
        store: options.label,
        method,
        path,
        attempt,
        reason: describe(failure),
        delayMs: Math.round(delay),
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  const auth = new VaultAuth(config.auth, {
    label: options.label,
    log,
    send: (method, path, body, token) => withRetry(method, path, body, async () => token, false),
  });

  return {
    request: (method, path, body) => withRetry(method, path, body, () => auth.token(), true),
    requestUnauthenticated: (method, path, body) =>
      withRetry(method, path, body, async () => undefined, false),
    async close() {
      auth.stop();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
