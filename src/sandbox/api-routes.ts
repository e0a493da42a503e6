/**
 * The Banking API routes (seed 001): the token endpoint, one protected call, and the JWKS.
 *
 * Token endpoint, checks in the seed's order:
 *   400 invalid_request / unsupported_grant_type  malformed body, missing field, other grant_type
 *   401 invalid_client "Invalid Credentials"        unknown client_id, wrong client_secret, inactive credential
 *   401 invalid_client "Invalid Client Certificate" no cert, untrusted chain, expired, or not bound to the credential
 *   403 access_denied "Forbidden"                   source IP not in the credential's allowlist
 *   200 { access_token, token_type: "Bearer", expires_in }
 */
import { HttpError, readJsonObject, stringField } from "./http.js";
import { ipAllowed } from "./ip.js";
import type { Route, RouteContext } from "./router.js";
import type { SandboxState } from "./state.js";
import type { TokenIssuer } from "./token.js";

export const TOKEN_PATH = "/public/gw_banking/v1/auth/token-v2";
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

async function token(ctx: RouteContext, deps: ApiDeps): Promise<void> {
  const body = await readJsonObject(ctx.req);
  const clientId = stringField(body, "client_id");
  const clientSecret = stringField(body, "client_secret");
  const grantType = stringField(body, "grant_type");
  if (grantType !== "client_credentials") {
    throw new HttpError(400, "unsupported_grant_type", 'grant_type must be "client_credentials"');
  }
  ctx.note({ clientId });
  if (!deps.state.secretMatches(clientId, clientSecret)) {
    throw new HttpError(401, "invalid_client", INVALID_CREDENTIALS, "credentials");
  }
  const peer = ctx.clientCert(clientId);
  const credential = deps.state.credential(clientId)!;
  if (!ipAllowed(credential.allowedIps, ctx.remoteAddress)) throw forbidden();
  deps.state.touch(clientId, peer.fingerprint);
  const accessToken = deps.tokens.issue({
    clientId,
    thumbprint: peer.thumbprint,
    ttlSeconds: deps.tokenTtlSeconds,
    now: ctx.now,
  });
  ctx.reply(200, { access_token: accessToken, token_type: "Bearer", expires_in: deps.tokenTtlSeconds });
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
      handle: (ctx) => token(ctx, deps),
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
