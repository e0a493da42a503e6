/**
 * One HTTPS exchange with the bank, and the retry loop around it. Network and TLS failures become coded
 * errors here: TLS_HANDSHAKE_FAILED (not retried: a human must fix cert, key, trust or TLS version) or
 * BANK_UNAVAILABLE (retried: resets, hang-ups, refused connections, timeouts). HTTP statuses are mapped
 * by the caller, which knows the contract of the route it called.
 * Messages name the method and path only: never a header value, body or secret.
 */
import { type RequestOptions, request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import type { SecureContext, TLSSocket } from "node:tls";
import { CertrotorError } from "../errors.js";
import { BANK_HINTS } from "./hints.js";
import type { MtlsSession } from "./mtls.js";

export interface HttpCall {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: URL;
  headers?: Record<string, string>;
  body?: unknown;
  session: MtlsSession;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  /** DER of the client certificate this connection presented (undefined without one). */
  presentedCertDer: Buffer | undefined;
}

const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** The error a failed exchange becomes (`what`: e.g. "POST /public/gw_banking/v1/auth/token-v2"). */
export function networkError(error: unknown, what: string, handshakeDone: boolean): CertrotorError {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (!handshakeDone && TLS_CODES.test(code)) {
    const reason = opensslReason(error);
    const said = reason ? `${code}: ${reason}` : code;
    return new CertrotorError(
      "TLS_HANDSHAKE_FAILED",
      `${what}: the TLS handshake with the bank failed (${said})`,
      {
        cause: error,
        hint: BANK_HINTS.TLS_HANDSHAKE_FAILED,
        details: { tlsError: code, ...(reason ? { tlsReason: reason } : {}) },
      },
    );
  }
  const why = code === "ETIMEDOUT" ? "timed out" : code ? `failed (${code})` : "failed";
  return new CertrotorError("BANK_UNAVAILABLE", `${what}: the connection to the bank ${why}`, {
    cause: error,
    hint: BANK_HINTS.BANK_UNAVAILABLE,
    details: { networkError: code || "unknown" },
  });
}

/** OpenSSL's reason text ("tlsv1 alert protocol version", "unable to get local issuer certificate"). */
function opensslReason(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : "";
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === "string") return reason;
  return (
    /routines:[^:]*:([^:]+):/.exec(message)?.[1] ??
    (/^[a-z][a-z0-9 ,-]{5,80}$/i.test(message) ? message : undefined)
  );
}

export function send(call: HttpCall): Promise<HttpAnswer> {
  const what = `${call.method} ${call.url.pathname}`;
  const body = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
  return new Promise((resolve, reject) => {
    let handshakeDone = false;
    // secureContext is a tls.connect option that https.request passes through (its typings omit it).
    const options: RequestOptions & { secureContext: SecureContext } = {
      method: call.method,
      agent: call.session.agent,
      secureContext: call.session.secureContext,
      minVersion: call.session.minVersion,
      maxVersion: call.session.maxVersion,
      headers: {
        accept: "application/json",
        ...(body ? { "content-type": "application/json", "content-length": String(body.length) } : {}),
        ...call.headers,
      },
    };
    const req = request(call.url, options);
    req.setTimeout(call.timeoutMs, () => {
      req.destroy(Object.assign(new Error(`no answer within ${call.timeoutMs} ms`), { code: "ETIMEDOUT" }));
    });
    req.on("socket", (socket) => {
      socket.once("secureConnect", () => {
        handshakeDone = true;
      });
    });
    req.on("error", (error) => reject(networkError(error, what, handshakeDone)));
    req.on("response", (res) => {
      const presentedCertDer = (res.socket as TLSSocket).getX509Certificate?.()?.raw;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (error) => reject(networkError(error, what, true)));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, json: parseJson(text), presentedCertDer });
      });
    });
    req.end(body);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface RetryPolicy {
  /** Further attempts after the first (config `retries`). */
  retries: number;
  /** First backoff delay; doubles each attempt up to maxDelayMs, with jitter in [delay/2, delay]. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or the retries run out. */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: () => Promise<T>,
  onRetry?: (error: CertrotorError, attemptNumber: number, delayMs: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof CertrotorError) || !error.retryable || n >= policy.retries) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n);
      const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      onRetry?.(error, n + 1, delay);
      await sleep(delay);
    }
  }
}
