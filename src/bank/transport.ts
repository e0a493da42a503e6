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
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as application/x-www-form-urlencoded (RFC 6749 token requests); instead of `body`. */
  form?: Record<string, string>;
  session: MtlsSession;
  timeoutMs: number;
  /** Read the client certificate the connection presented (costs ≈ 0.4 ms; see MtlsSession). */
  capturePresentedCert?: boolean;
}

export interface HttpAnswer {
  status: number;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  /** DER of the client certificate this connection presented (only when asked with capturePresentedCert). */
  presentedCertDer: Buffer | undefined;
  /**
   * Values the request carried that the bank's text must never be quoted with (client_secret, the
   * bearer token or API key, CSR/PEM bodies): a bank that echoes the request would otherwise put them
   * into an error message. See answers.ts bankText.
   */
  echoes?: readonly string[];
}

/** Request body fields that are identifiers, not secrets: a bank quoting them back may keep them. */
const NOT_SECRET_FIELDS = new Set(["client_id", "grant_type", "certificate_id"]);

/** Every string the request carried that is, or may be, secret (see HttpAnswer.echoes). */
export function requestEchoes(call: Pick<HttpCall, "body" | "headers">): string[] {
  const out: string[] = [];
  const collect = (value: unknown, key?: string): void => {
    if (typeof value === "string") {
      if (!(key && NOT_SECRET_FIELDS.has(key)) && value.length >= 4) out.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) collect(item);
    } else if (value !== null && typeof value === "object")
      for (const [k, v] of Object.entries(value)) collect(v, k);
  };
  collect(call.body);
  for (const [name, value] of Object.entries(call.headers ?? {})) {
    if (name.toLowerCase() !== "authorization") continue;
    out.push(value);
    const credential = value.replace(/^\S+\s+/, "");
    if (credential.length >= 4) out.push(credential);
  }
  return out;
}

const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** The error a failed exchange becomes (`what`: e.g. "POST /public/gw_banking/v1/auth/token-v2"). */
/** Where an exchange was when it failed. */
export type Phase = "connect" | "handshake" | "exchange";

const RESET_CODES = new Set(["ECONNRESET", "EPIPE"]);

/**
 * The error a failed exchange becomes (`what`: e.g. "POST /public/gw_banking/v1/auth/token-v2").
 * A TLS alert or a refused server certificate is TLS_HANDSHAKE_FAILED (final). A reset during the
 * handshake is how many banks refuse a client certificate under TLS 1.2 (they close instead of
 * alerting), but it can also be transient: TLS_HANDSHAKE_FAILED with the handshake hint, retryable.
 */
export function networkError(
  error: unknown,
  what: string,
  phase: Phase,
  protocol?: string | null,
): CertrotorError {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (TLS_CODES.test(code)) {
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
  if (phase === "handshake" && RESET_CODES.has(code)) {
    return new CertrotorError(
      "TLS_HANDSHAKE_FAILED",
      `${what}: the bank closed the connection during the TLS handshake (${code})`,
      { cause: error, hint: BANK_HINTS.TLS_HANDSHAKE_FAILED, retryable: true, details: { tlsError: code } },
    );
  }
  const why = code === "ETIMEDOUT" ? "timed out" : code ? `failed (${code})` : "failed";
  // Under TLS 1.3 the server checks the client certificate after the client considers the handshake
  // done, so a bank refusing the certificate shows up as a reset here.
  const tls13Refusal = phase === "exchange" && RESET_CODES.has(code) && protocol === "TLSv1.3";
  return new CertrotorError("BANK_UNAVAILABLE", `${what}: the connection to the bank ${why}`, {
    cause: error,
    hint: tls13Refusal ? BANK_HINTS.RESET_AFTER_TLS13_HANDSHAKE : BANK_HINTS.BANK_UNAVAILABLE,
    details: { networkError: code || "unknown", phase },
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
  const body = call.form
    ? Buffer.from(new URLSearchParams(call.form).toString())
    : call.body === undefined
      ? undefined
      : Buffer.from(JSON.stringify(call.body));
  const contentType = call.form ? "application/x-www-form-urlencoded" : "application/json";
  return new Promise((resolve, reject) => {
    let phase: Phase = "connect";
    let protocol: string | null = null;
    // secureContext is a tls.connect option that https.request passes through (its typings omit it).
    const options: RequestOptions & { secureContext: SecureContext } = {
      method: call.method,
      agent: call.session.agent,
      secureContext: call.session.secureContext,
      // explicit, so no environment setting can turn verification off; the
      // pinned CA is in the secureContext
      rejectUnauthorized: true,
      minVersion: call.session.minVersion,
      maxVersion: call.session.maxVersion,
      headers: {
        accept: "application/json",
        ...(body ? { "content-type": contentType, "content-length": String(body.length) } : {}),
        ...call.headers,
      },
    };
    const req = request(call.url, options);
    req.setTimeout(call.timeoutMs, () => {
      req.destroy(Object.assign(new Error(`no answer within ${call.timeoutMs} ms`), { code: "ETIMEDOUT" }));
    });
    req.on("socket", (socket) => {
      const tls = socket as TLSSocket;
      // a kept-alive socket (admin agent) is already past its handshake and fires neither event again
      if (!tls.connecting && tls.getProtocol() !== null) {
        phase = "exchange";
        protocol = tls.getProtocol();
        return;
      }
      tls.once("connect", () => {
        phase = "handshake";
      });
      tls.once("secureConnect", () => {
        phase = "exchange";
        protocol = tls.getProtocol();
      });
    });
    req.on("error", (error) => reject(networkError(error, what, phase, protocol)));
    req.on("response", (res) => {
      const presentedCertDer = call.capturePresentedCert
        ? (res.socket as TLSSocket).getX509Certificate()?.raw
        : undefined;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (error) => reject(networkError(error, what, "exchange")));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          json: parseJson(text),
          presentedCertDer,
          echoes: requestEchoes(call),
        });
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
