/**
 * A bank's token endpoint and protected call over mTLS. Default: seed 001's Banking API,
 *   POST /public/gw_banking/v1/auth/token-v2 { client_id, client_secret, grant_type: "client_credentials" }
 *   GET  /public/gw_banking/v1/accounts/{id}/balance   Authorization: Bearer <token>, same client cert
 * or, with style `form`, RFC 6749 § 4.4: `grant_type=client_credentials` form-encoded at a configured path,
 * the client authenticated by HTTP Basic or in the body (§ 2.3.1).
 * The answer must be 200 with token_type Bearer; when the JWT carries cnf.x5t#S256 (RFC 8705) it must be
 * the thumbprint of the certificate this connection presented, else TOKEN_NOT_BOUND.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { bankError, bankText, genericAnswerError, tokenAnswerError } from "./answers.js";
import { certThumbprintClaim } from "./jwt.js";
import type { MtlsSession } from "./mtls.js";
import { type HttpAnswer, type RetryPolicy, send, withRetries } from "./transport.js";
import type { BankCredentials, TokenResult } from "./types.js";

export const TOKEN_PATH = "/public/gw_banking/v1/auth/token-v2";
export const balancePath = (accountId: string): string =>
  `/public/gw_banking/v1/accounts/${encodeURIComponent(accountId)}/balance`;

/** How the token request is put on the wire. */
export type TokenRequestStyle =
  /** Seed 001: a JSON body with client_id, client_secret and grant_type. */
  | { kind: "json"; path: string }
  /** RFC 6749 § 4.4: a form body; the client authenticated by HTTP Basic or in the body (§ 2.3.1). */
  | { kind: "form"; path: string; clientAuth: "basic" | "body"; scope?: string };

export interface TokenClientOptions {
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  onRetry: (what: string, code: string, attempt: number, delayMs: number) => void;
  /** Default: seed 001's JSON contract at TOKEN_PATH. */
  style?: TokenRequestStyle;
  /** Path of the protected call for an account (default: seed 001's balance path). */
  probePath?: (accountId: string) => string;
}

/** Seed 001 requires expires_in; RFC 6749 § 5.1 only recommends it (absent: 0, the token is not reused). */
const tokenSchema = (expiresInRequired: boolean) =>
  z.object({
    access_token: z.string().min(1),
    token_type: z.string(),
    expires_in: expiresInRequired ? z.coerce.number().positive() : z.coerce.number().positive().default(0),
  });

/** RFC 6749 § 2.3.1: the id and secret are form-encoded before they become Basic's user and password. */
const formEncoded = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);

/** Headers and body of a token request in `style`. */
function tokenRequest(
  style: TokenRequestStyle,
  credentials: BankCredentials,
): { headers: Record<string, string>; body?: unknown; form?: Record<string, string> } {
  if (style.kind === "json") {
    return {
      headers: {},
      body: {
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        grant_type: "client_credentials",
      },
    };
  }
  const form: Record<string, string> = { grant_type: "client_credentials" };
  if (style.scope !== undefined) form["scope"] = style.scope;
  if (style.clientAuth === "body") {
    return {
      headers: {},
      form: { ...form, client_id: credentials.clientId, client_secret: credentials.clientSecret },
    };
  }
  const basic = Buffer.from(`${formEncoded(credentials.clientId)}:${formEncoded(credentials.clientSecret)}`);
  return { headers: { authorization: `Basic ${basic.toString("base64")}` }, form };
}

/** A TokenResult whose accessToken is non-enumerable (never serialized nor inspected by accident). */
function tokenResult(fields: Omit<TokenResult, "accessToken">, accessToken: string): TokenResult {
  const result = { ...fields };
  Object.defineProperty(result, "accessToken", { value: accessToken, enumerable: false });
  return result as TokenResult;
}

/** A 401 on the protected call: the token's binding to this certificate, the certificate itself, or the token. */
function probeRefusal(answer: HttpAnswer, what: string) {
  const text = bankText(answer);
  if (/\bbound\b/i.test(text)) {
    return bankError(
      "TOKEN_NOT_BOUND",
      `${what}: the bank refused the token over this certificate (401)`,
      answer,
    );
  }
  if (/certificate|certificado/i.test(text)) {
    return bankError(
      "INVALID_CLIENT_CERT",
      `${what}: the bank answered 401 Invalid Client Certificate`,
      answer,
    );
  }
  return bankError("INVALID_CREDENTIALS", `${what}: the bank refused the access token (401)`, answer);
}

export function createTokenClient(options: TokenClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const style = options.style ?? { kind: "json", path: TOKEN_PATH };
  const probePath = options.probePath ?? balancePath;
  const schema = tokenSchema(style.kind === "json");
  const retried = (what: string, exchange: () => Promise<HttpAnswer>) =>
    withRetries(options.retry, exchange, (error, attempt, delay) =>
      options.onRetry(what, error.code, attempt, delay),
    );

  async function requestToken(session: MtlsSession, credentials: BankCredentials): Promise<TokenResult> {
    const what = `POST ${style.path}`;
    const answer = await retried(what, async () => {
      const reply = await send({
        method: "POST",
        url: new URL(`${base}${style.path}`),
        ...tokenRequest(style, credentials),
        session,
        timeoutMs: options.timeoutMs,
        capturePresentedCert: session.presentedThumbprint === undefined,
      });
      if (reply.status !== 200) throw tokenAnswerError(reply, what);
      return reply;
    });
    const parsed = schema.safeParse(answer.json);
    if (!parsed.success) {
      throw bankError(
        "BANK_PROTOCOL",
        `${what}: the token answer lacks access_token, token_type or expires_in`,
        answer,
      );
    }
    if (parsed.data.token_type.toLowerCase() !== "bearer") {
      throw bankError(
        "BANK_PROTOCOL",
        `${what}: token_type is "${parsed.data.token_type.slice(0, 20)}", expected "Bearer"`,
        answer,
      );
    }
    if (answer.presentedCertDer) {
      session.presentedThumbprint = createHash("sha256").update(answer.presentedCertDer).digest("base64url");
    }
    const certThumbprint = session.presentedThumbprint ?? "";
    const claimed = certThumbprintClaim(parsed.data.access_token);
    if (claimed !== undefined && claimed !== certThumbprint) {
      throw bankError(
        "TOKEN_NOT_BOUND",
        `${what}: the token's cnf.x5t#S256 does not match the certificate presented (${certThumbprint.slice(0, 12)}…)`,
        answer,
      );
    }
    return tokenResult(
      {
        tokenType: "Bearer",
        expiresIn: parsed.data.expires_in,
        obtainedAt: new Date(),
        certThumbprint,
        boundToCert: claimed !== undefined,
      },
      parsed.data.access_token,
    );
  }

  async function probe(session: MtlsSession, token: TokenResult, accountId: string): Promise<void> {
    const what = `GET ${probePath("{id}")}`;
    const answer = await retried(what, async () => {
      const reply = await send({
        method: "GET",
        url: new URL(`${base}${probePath(accountId)}`),
        headers: { authorization: `Bearer ${token.accessToken}` },
        session,
        timeoutMs: options.timeoutMs,
      });
      if (reply.status >= 500 || reply.status === 429) throw genericAnswerError(reply, what);
      return reply;
    });
    if (answer.status === 200) return;
    if (answer.status === 401) throw probeRefusal(answer, what);
    if (answer.status === 403) {
      throw bankError(
        "IP_NOT_ALLOWED",
        `${what}: the bank answered 403 Forbidden on the protected call`,
        answer,
      );
    }
    if (answer.status === 404) {
      throw bankError(
        "BANK_BAD_REQUEST",
        `${what}: the bank does not know probe account "${accountId}" (404)`,
        answer,
      );
    }
    throw genericAnswerError(answer, what);
  }

  return { requestToken, probe };
}

export type TokenClient = ReturnType<typeof createTokenClient>;
