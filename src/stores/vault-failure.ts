/**
 * What a failed Vault call was, read from whatever node-vault or its transport (vault-http.ts) threw, without
 * keeping the object (node-vault's errors carry the whole response), and the error it becomes:
 * 403 → ACCESS_DENIED, 5xx/429/transport → STORE_UNAVAILABLE (retryable; TLS trust failures and redirects
 * off the configured address are not), other statuses → VaultStatusError for the caller to interpret (CAS 400, 404).
 */
import { CertrotorError, type ErrorCode } from "../errors.js";
import { OFF_ORIGIN } from "./vault-transport.js";

export type Failure =
  | { kind: "status"; status: number; errors: string[]; body: unknown }
  | { kind: "network"; code: string; message: string };

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

/** node-vault's ApiResponseError has `response {statusCode, body}`; transport errors (node:net, TLS) have `code`. */
export function classify(error: unknown): Failure {
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

/**
 * 5xx, 429 and transport failures; TLS verification failures are final (a retry cannot fix trust), and so is a
 * redirect off the configured address (the node keeps redirecting).
 */
export function retryable(failure: Failure): boolean {
  if (failure.kind === "status") return failure.status === 429 || failure.status >= 500;
  if (failure.code === OFF_ORIGIN) return false;
  return RETRYABLE_CODES.has(failure.code) || !/CERT|SSL|TLS|SELF_SIGNED|SIGNATURE/.test(failure.code);
}

export function describe(failure: Failure): string {
  if (failure.kind === "network") {
    return failure.message.includes(failure.code) ? failure.message : `${failure.code}: ${failure.message}`;
  }
  return `Vault answered ${failure.status}${failure.errors.length > 0 ? ` (${failure.errors.join("; ")})` : ""}`;
}

export interface FailureContext {
  /** `vault store "main" at https://vault:8200` */
  where: string;
  method: string;
  path: string;
  attempts: number;
  /** What to check after a 403 (token vs AppRole). */
  denialHint: string;
  /** The code for an unavailable Vault (the store's STORE_UNAVAILABLE; an issuer may pick its own). */
  unavailableCode: ErrorCode;
}

/** The error a final failure becomes; never the thrown object itself. */
export function failureError(failure: Failure, ctx: FailureContext): Error {
  const call = `${ctx.where}: ${ctx.method} ${ctx.path}`;
  if (failure.kind === "status" && failure.status === 403) {
    return new CertrotorError(
      "ACCESS_DENIED",
      `${call} was refused (403): ${failure.errors.join("; ") || "permission denied"}`,
      {
        hint: ctx.denialHint,
        details: { status: 403, path: ctx.path },
      },
    );
  }
  if (failure.kind === "status" && !retryable(failure)) {
    return new VaultStatusError(failure.status, failure.errors, failure.body);
  }
  if (failure.kind === "network" && failure.code === OFF_ORIGIN) {
    return new CertrotorError(ctx.unavailableCode, `${call} was redirected: ${failure.message}`, {
      retryable: false,
      hint: "point `address` at the active Vault node or at a load balancer in front of the cluster (a standby redirects to the active node's api_addr); certrotor never follows a redirect to another address",
      details: { path: ctx.path, code: failure.code },
    });
  }
  const tls = failure.kind === "network" && !retryable(failure);
  const details = {
    path: ctx.path,
    attempts: ctx.attempts,
    ...(failure.kind === "status" ? { status: failure.status } : { code: failure.code }),
  };
  return new CertrotorError(
    ctx.unavailableCode,
    `${call} failed${tls ? "" : ` after ${ctx.attempts} attempts`}: ${describe(failure)}`,
    {
      cause: new Error(describe(failure)),
      retryable: !tls,
      ...(tls ? { hint: "the TLS connection to Vault failed: check `address` and `caFile`" } : {}),
      details,
    },
  );
}
