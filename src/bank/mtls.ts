/**
 * Client TLS for the bank: one SecureContext per client material (cert + key + the pinned bank CA), and
 * an https.Agent that never resumes TLS sessions, so every mTLS connection is a full handshake in which
 * the private key really signs (a resumed session would not prove the new key during verify).
 * Server verification is always on: the bank's certificate must chain to the pinned CA (or, without a
 * caFile, to Node's default roots) and match the host name.
 */
import { Agent } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import { fingerprintOf } from "../crypto/inspect.js";
import { CertrotorError } from "../errors.js";
import { BANK_HINTS } from "./hints.js";
import type { ClientMaterial } from "./types.js";

export type TlsVersion = "TLSv1.2" | "TLSv1.3";

export interface TlsSettings {
  /** PEM bundle the bank's server certificate must chain to; undefined = Node's default roots. */
  caPem: string | undefined;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
}

/** What https.request needs for one mTLS connection with one material. */
export interface MtlsSession {
  readonly agent: Agent;
  readonly secureContext: SecureContext;
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  /**
   * base64url SHA-256 of the client certificate this context presents (RFC 8705 x5t#S256). Known at
   * once for PEM material; for PFX it is read from the first connection's socket. The context is
   * immutable, so every connection presents the same certificate (reading it from each socket costs
   * ≈ 0.4 ms, which the bench showed as the adapter's only overhead).
   */
  presentedThumbprint: string | undefined;
}

/**
 * Agent for the admin API: server-authenticated TLS with the pinned CA, no client certificate. Its
 * connections are kept alive and its TLS sessions resumed: nothing is proven by a fresh handshake here,
 * and a scan lists the slots of every credential, which would otherwise cost one handshake on each side
 * per credential. Idle sockets close after the bank's Keep-Alive hint (Node honours it) or `IDLE_MS`;
 * a socket the bank closed as it was reused fails as a reset, which the adapter retries.
 */
export function plainSession(tls: TlsSettings): MtlsSession {
  const agent = new Agent({ keepAlive: true, timeout: IDLE_MS, maxSockets: 16 });
  return { ...session(tls, createSecureContext(contextOptions(tls))), agent };
}

/** How long an idle admin connection is kept when the bank sends no Keep-Alive hint. */
const IDLE_MS = 4_000;

function contextOptions(tls: TlsSettings) {
  return { ...(tls.caPem ? { ca: tls.caPem } : {}), minVersion: tls.minVersion, maxVersion: tls.maxVersion };
}

function session(tls: TlsSettings, secureContext: SecureContext, presentedThumbprint?: string): MtlsSession {
  return {
    agent: new Agent({ keepAlive: false, maxCachedSessions: 0 }),
    secureContext,
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    presentedThumbprint,
  };
}

/**
 * A session for `material`. Local problems surface here, before any connection, with their own codes:
 * PFX_BAD_PASSPHRASE, PFX_MALFORMED, KEY_MISMATCH, PEM_MALFORMED (hint: seed 001's handshake row).
 */
export function mtlsSession(material: ClientMaterial, tls: TlsSettings, where: string): MtlsSession {
  const base = contextOptions(tls);
  try {
    const context =
      "pfx" in material
        ? createSecureContext({ ...base, pfx: material.pfx, passphrase: material.passphrase })
        : createSecureContext({
            ...base,
            cert: material.chainPem
              ? `${material.certPem.trim()}\n${material.chainPem.trim()}\n`
              : material.certPem,
            key: material.keyPem,
          });
    const thumbprint =
      "pfx" in material
        ? undefined
        : Buffer.from(fingerprintOf(material.certPem, where), "hex").toString("base64url");
    return session(tls, context, thumbprint);
  } catch (error) {
    throw materialError(error, "pfx" in material, where);
  }
}

function materialError(error: unknown, isPfx: boolean, where: string): CertrotorError {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const message = error instanceof Error ? error.message : "";
  const hint = BANK_HINTS.TLS_HANDSHAKE_FAILED;
  const options = { cause: error, hint, details: { where } };
  if (code === "ERR_OSSL_X509_KEY_VALUES_MISMATCH") {
    return new CertrotorError(
      "KEY_MISMATCH",
      `${where}: the private key does not belong to the certificate`,
      options,
    );
  }
  if (isPfx && /mac verify failure|bad decrypt|invalid password/i.test(message)) {
    return new CertrotorError("PFX_BAD_PASSPHRASE", `${where}: the PKCS#12 passphrase is wrong`, options);
  }
  if (isPfx)
    return new CertrotorError("PFX_MALFORMED", `${where}: the PKCS#12 data cannot be loaded`, options);
  return new CertrotorError(
    "PEM_MALFORMED",
    `${where}: the certificate or key PEM cannot be loaded`,
    options,
  );
}
