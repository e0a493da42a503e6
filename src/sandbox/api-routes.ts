/**
 * The Banking API routes (seed 001): the token endpoint, one protected call, and the JWKS; plus a
 * standard RFC 6749 § 4.4 token endpoint (form-encoded, the client authenticated by HTTP Basic or in the
 * body, § 2.3.1) for banks of that kind, with the same checks and answers.
 *
 * Token endpoints, checks in the seed's order:
 *   400 invalid_request / unsupported_grant_type  malformed body, missing field, other grant_type
 *   401 invalid_client "Invalid Credentials"        unknown client_id, wrong client_secret, inactive credential
 *   401 invalid_client "Invalid Client Certificate" no cert, untrusted chain, expired, or not bound to the
 *                                                   credential (nor, for a trust-the-CA credential, its subject)
 *   403 access_denied "Forbidden"                   source IP not in the credential's allowlist
 *   200 { access_token, token_type: "Bearer", expires_in }
 */
import { badRequest, HttpError, readBody, readJsonObject, stringField } from "./http.js";
import { ipAllowed } from "./ip.js";
import type { Route, RouteContext } from "./router.js";
import type { SandboxState } from "./state.js";
import type { TokenIssuer } from "./token.js";

export const TOKEN_PATH = "/public/gw_banking/v1/auth/token-v2";
/** The standard OAuth 2.0 token endpoint (kind oauth2-mtls). */
export const OAUTH_TOKEN_PATH = "/oauth/token";
const BALANCE_PATH = "/public/gw_banking/v1/accounts/:accountId/balance";
const JWKS_PATH = "/.well-known/jwks.json";

export const INVALID_CREDENTIALS = "Invalid Credentials";
export const INVALID_CLIENT_CERTIFICATE = "Invalid Client Certificate";

export interface ApiDeps {
  readonly state: SandboxState;
  readonly tokens: TokenIssuer;
  readonly tokenTtlSeconds: number;
}

const forbidden = (): HttpError => new HttpError(403, "access_denied", "Forbidden", "ip_not_allowed");

/** What a token request asks, however it was encoded. */
interface TokenAsk {
  clientId: string;
  clientSecret: string;
  grantType: string;
  scope?: string;
  /** The client authenticated with HTTP Basic: a refusal carries a Basic challenge (RFC 6749 § 5.2). */
  basic: boolean;
}

/** The checks and the answer shared by both token endpoints. */
function grant(ctx: RouteContext, deps: ApiDeps, ask: TokenAsk): void {
  if (ask.grantType !== "client_credentials") {
    throw new HttpError(400, "unsupported_grant_type", 'grant_type must be "client_credentials"');
  }
  ctx.note({ clientId: ask.clientId });
  if (!deps.state.secretMatches(ask.clientId, ask.clientSecret)) {
    const challenge = ask.basic ? { "www-authenticate": 'Basic realm="certrotor sandbox"' } : undefined;
    throw new HttpError(401, "invalid_client", INVALID_CREDENTIALS, "credentials", challenge);
  }
  const peer = ctx.clientCert(ask.clientId);
  const credential = deps.state.credential(ask.clientId)!;
  if (!ipAllowed(credential.allowedIps, ctx.remoteAddress)) throw forbidden();
  deps.state.touch(ask.clientId, peer.fingerprint);
  const accessToken = deps.tokens.issue({
    clientId: ask.clientId,
    thumbprint: peer.thumbprint,
    ttlSeconds: deps.tokenTtlSeconds,
    now: ctx.now,
  });
  ctx.reply(
    200,
    {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: deps.tokenTtlSeconds,
      ...(ask.scope !== undefined ? { scope: ask.scope } : {}),
    },
    { pragma: "no-cache" },
  );
}

/** Seed 001's JSON contract. */
async function jsonToken(ctx: RouteContext, deps: ApiDeps): Promise<void> {
  const body = await readJsonObject(ctx.req);
  grant(ctx, deps, {
    clientId: stringField(body, "client_id"),
    clientSecret: stringField(body, "client_secret"),
    grantType: stringField(body, "grant_type"),
    basic: false,
  });
}

/** RFC 6749 § 2.3.1: Basic's user and password are the form-encoded client_id and client_secret. */
function basicCredentials(header: string): { clientId: string; clientSecret: string } {
  const decoded = Buffer.from(header.replace(/^Basic\s+/i, ""), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw badRequest("the Basic authorization header holds no client_id:client_secret pair");
  const formDecoded = (text: string): string => {
    try {
      return decodeURIComponent(text.replace(/\+/g, " "));
    } catch {
      throw badRequest("the Basic authorization header is not form-encoded");
    }
  };
  return {
    clientId: formDecoded(decoded.slice(0, colon)),
    clientSecret: formDecoded(decoded.slice(colon + 1)),
  };
}

/** RFC 6749 § 4.4.2: a form body; the client authenticated by Basic or in the body, never both (§ 2.3). */
async function formToken(ctx: RouteContext, deps: ApiDeps): Promise<void> {
  const type = (ctx.req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw badRequest("the token request must be application/x-www-form-urlencoded (RFC 6749 § 4.4.2)");
  }
  const form = new URLSearchParams(await readBody(ctx.req));
  const field = (name: string): string | undefined => {
    const values = form.getAll(name);
    if (values.length > 1) throw badRequest(`parameter "${name}" is given more than once`);
    return values[0] === "" ? undefined : values[0];
  };
  const grantType = field("grant_type");
  if (grantType === undefined) throw badRequest('missing parameter "grant_type"');
  const authorization = ctx.req.headers.authorization;
  const basic = authorization !== undefined && /^Basic\s/i.test(authorization);
  const inBody = { clientId: field("client_id"), clientSecret: field("client_secret") };
  if (basic && inBody.clientSecret !== undefined) {
    throw badRequest("the client authenticated both with HTTP Basic and in the body (RFC 6749 § 2.3)");
  }
  const client = basic ? basicCredentials(authorization) : inBody;
  ctx.note({ clientAuth: basic ? "basic" : "body" });
  if (!client.clientId || !client.clientSecret) {
    const challenge = { "www-authenticate": 'Basic realm="certrotor sandbox"' };
    throw new HttpError(401, "invalid_client", INVALID_CREDENTIALS, "credentials", challenge);
  }
  const scope = field("scope");
  grant(ctx, deps, {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    grantType,
    basic,
    ...(scope !== undefined ? { scope } : {}),
  });
}

const invalidToken = (description: string, reason: string): HttpError =>
  new HttpError(401, "invalid_token", description, reason);

/** A protected call: the Bearer token must verify and be bound (cnf.x5t#S256) to the cert of this connection. */
function balance(ctx: RouteContext, deps: ApiDeps): void {
  const header = ctx.req.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw invalidToken("missing Bearer access token", "no_token");
  const claims = deps.tokens.verify(match[1]!, ctx.now);
  if (!claims) throw invalidToken("access token is invalid or expired", "bad_token");
  ctx.note({ clientId: claims.sub });
  const peer = ctx.clientCert();
  if (peer.thumbprint !== claims.cnf["x5t#S256"]) {
    throw invalidToken("access token is not bound to the presented client certificate", "cnf_mismatch");
  }
  const credential = deps.state.credential(claims.sub);
  if (credential?.status !== "active") {
    throw invalidToken("access token belongs to an inactive credential", "inactive");
  }
  if (!ipAllowed(credential.allowedIps, ctx.remoteAddress)) throw forbidden();
  ctx.reply(200, {
    account_id: ctx.params["accountId"],
    available: "1000.00",
    currency: "BRL",
    as_of: ctx.now.toISOString(),
  });
}

export function apiRoutes(deps: ApiDeps): Route[] {
  return [
    {
      method: "POST",
      path: TOKEN_PATH,
      guard: "client-cert",
      endpoint: "token",
      handle: (ctx) => jsonToken(ctx, deps),
    },
    {
      method: "POST",
      path: OAUTH_TOKEN_PATH,
      guard: "client-cert",
      endpoint: "token",
      handle: (ctx) => formToken(ctx, deps),
    },
    {
      method: "GET",
      path: BALANCE_PATH,
      guard: "client-cert",
      endpoint: "balance",
      handle: (ctx) => balance(ctx, deps),
    },
    {
      method: "GET",
      path: JWKS_PATH,
      guard: "none",
      endpoint: undefined,
      handle: (ctx) => ctx.reply(200, deps.tokens.jwks()),
    },
  ];
}
