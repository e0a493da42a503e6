/**
 * Reads the RFC 8705 confirmation claim of an access token. The token came over a TLS connection that
 * authenticated the bank, so certrotor reads the claim without verifying the signature (the bank's
 * resource servers do that); it only checks that the bank bound the token to the certificate presented.
 * An opaque (non-JWT) token, or a JWT without `cnf`, is simply unbound.
 */

/** The token's `cnf.x5t#S256`, or undefined when the token is not a JWT or carries none. */
export function certThumbprintClaim(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    if (claims === null || typeof claims !== "object") return undefined;
    const cnf = (claims as { cnf?: unknown }).cnf;
    if (cnf === null || typeof cnf !== "object") return undefined;
    const thumbprint = (cnf as Record<string, unknown>)["x5t#S256"];
    return typeof thumbprint === "string" ? thumbprint : undefined;
  } catch {
    return undefined;
  }
}
