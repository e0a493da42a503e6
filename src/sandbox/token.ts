/**
 * The sandbox's access tokens: JWTs signed with ES256 (node:crypto, a P-256 key made at start-up; `alg`
 * is fixed, `none` is never issued nor accepted), bound to the client certificate that obtained them by
 * `cnf.x5t#S256` (RFC 8705 § 3.1). The public key is published as a JWKS, its `kid` the RFC 7638
 * thumbprint of the JWK.
 */
import { createHash, generateKeyPair, type KeyObject, randomUUID, sign, verify } from "node:crypto";
import { promisify } from "node:util";

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  cnf: { "x5t#S256": string };
}

export interface TokenIssuer {
  readonly kid: string;
  jwks(): { keys: Array<Record<string, string>> };
  issue(input: { clientId: string; thumbprint: string; ttlSeconds: number; now: Date }): string;
  /** The claims of a token this issuer signed and that has not expired at `now`; undefined otherwise. */
  verify(token: string, now: Date): AccessTokenClaims | undefined;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

const generateEcKeyPair = promisify(generateKeyPair);

export async function createTokenIssuer(options: { issuer: string; audience: string }): Promise<TokenIssuer> {
  const { privateKey, publicKey } = await generateEcKeyPair("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" }) as { crv: string; kty: string; x: string; y: string };
  // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
  const kid = createHash("sha256")
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest("base64url");
  const header = b64url({ alg: "ES256", typ: "at+jwt", kid });

  return {
    kid,
    jwks: () => ({
      keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, use: "sig", alg: "ES256" }],
    }),
    issue({ clientId, thumbprint, ttlSeconds, now }) {
      const iat = Math.floor(now.getTime() / 1000);
      const claims: AccessTokenClaims = {
        iss: options.issuer,
        sub: clientId,
        aud: options.audience,
        iat,
        exp: iat + ttlSeconds,
        jti: randomUUID(),
        cnf: { "x5t#S256": thumbprint },
      };
      const input = `${header}.${b64url(claims)}`;
      const signature = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
      return `${input}.${signature.toString("base64url")}`;
    },
    verify: (token, now) => verifyToken(token, now, publicKey, kid, options),
  };
}

function verifyToken(
  token: string,
  now: Date,
  publicKey: KeyObject,
  kid: string,
  expected: { issuer: string; audience: string },
): AccessTokenClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [headerText, payloadText, signatureText] = parts as [string, string, string];
  const header = parseSegment(headerText);
  if (header?.["alg"] !== "ES256" || header["kid"] !== kid) return undefined;
  const valid = verify(
    "sha256",
    Buffer.from(`${headerText}.${payloadText}`),
    { key: publicKey, dsaEncoding: "ieee-p1363" },
    Buffer.from(signatureText, "base64url"),
  );
  if (!valid) return undefined;
  const claims = parseSegment(payloadText) as Partial<AccessTokenClaims> | undefined;
  if (!claims || claims.iss !== expected.issuer || claims.aud !== expected.audience) return undefined;
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= now.getTime()) return undefined;
  if (typeof claims.sub !== "string" || typeof claims.cnf?.["x5t#S256"] !== "string") return undefined;
  return claims as AccessTokenClaims;
}

function parseSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
