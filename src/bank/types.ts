/**
 * The bank port: only the calls the rotation saga (and the bank issuer) make. Every bank has a token
 * endpoint (`BankClient`); a slot API (`SlotRegistry`) and CSR signing (`CsrSigner`) are optional
 * capabilities, present as `bank.slots` / `bank.signer` only where the bank offers them (use
 * `requireSlots` / `requireSigner` from capabilities.ts for a coded NOT_SUPPORTED otherwise).
 * Adapters, one file each, chosen by `kind` in index.ts:
 * - `banking-api.ts`: seed 001's Banking API (JSON token contract) and its CORE admin API (slots, CSR signing);
 * - `oauth2-mtls.ts`: a standard RFC 6749 client_credentials token call over mTLS, no slot API (portal
 *   banks such as seed 000's, banks that trust the institution's CA such as seed 002's).
 */

export type BankKind = "banking-api" | "oauth2-mtls";

/** A certificate bound to a credential at the bank (one of its active slots: at most 2, or 1 at single-slot banks). */
export interface BoundCertificate {
  /** The bank's id of the registered certificate. */
  id: string;
  /** SHA-256 of the DER, lowercase hex (as Material.fingerprint). */
  fingerprint: string;
  subject: string;
  notAfter: Date;
  boundAt: Date;
  /** When this certificate last obtained a token, where the bank reports it. */
  lastUsedAt?: Date;
}

/** Client material for an mTLS call: PEM (key unencrypted) or PKCS#12. */
export type ClientMaterial =
  | { certPem: string; keyPem: string; chainPem?: string }
  | { pfx: Buffer; passphrase: string };

export interface BankCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * A token the bank issued. `accessToken` is a non-enumerable property: it never appears in
 * JSON.stringify, util.inspect or a logged object; read it explicitly where the call needs it.
 */
export interface TokenResult {
  readonly accessToken: string;
  readonly tokenType: "Bearer";
  /** Seconds, as the bank answered. */
  readonly expiresIn: number;
  /** When the answer arrived (the cache counts expiry from here). */
  readonly obtainedAt: Date;
  /** SHA-256 of the client certificate presented on the connection, base64url (RFC 8705 x5t#S256). */
  readonly certThumbprint: string;
  /** True when the token carries cnf.x5t#S256 and it equals `certThumbprint`. */
  readonly boundToCert: boolean;
}

export interface VerifyOptions {
  /** Also make the protected call, on the account configured in `probe.accountId`. */
  probe?: boolean;
  /** Also make the protected call, on this account (overrides the configured one). */
  probeAccountId?: string;
}

/** The bank's certificate slots for a credential (seed 001's CORE admin API). Optional: portal banks have none. */
export interface SlotRegistry {
  /** The certificates bound to `clientId`. */
  listSlots(clientId: string): Promise<BoundCertificate[]>;
  /** Registers and binds `certPem`; a certificate already bound is success. SLOTS_FULL when every slot is taken. */
  bind(clientId: string, certPem: string): Promise<BoundCertificate>;
  /** Unbinds the certificate with `fingerprint`; one not bound is success. */
  unbind(clientId: string, fingerprint: string): Promise<void>;
}

/** The bank's CA signs CSRs through an API (seed 000's model, automated). Optional. */
export interface CsrSigner {
  /** The same idempotency key returns the same certificate. */
  signCsr(
    csrPem: string,
    options: { idempotencyKey: string },
  ): Promise<{ certPem: string; chainPem: string }>;
}

/** Every bank: the token endpoint over mTLS, and the optional capabilities it has. */
export interface BankClient {
  readonly kind: BankKind;
  readonly name: string;
  /** Present only when the bank has a slot API. */
  readonly slots?: SlotRegistry;
  /** Present only when the bank signs CSRs through an API. */
  readonly signer?: CsrSigner;
  /** client_credentials token over mTLS with `material`. */
  requestToken(material: ClientMaterial, credentials: BankCredentials): Promise<TokenResult>;
  /** The configured protected call with `token`, over the same material. */
  probe(token: TokenResult, material: ClientMaterial, accountId: string): Promise<void>;
  /** Token (with the cnf binding check) and, when asked, the probe: the saga's verify step. */
  verify(
    material: ClientMaterial,
    credentials: BankCredentials,
    options?: VerifyOptions,
  ): Promise<TokenResult>;
  /** Releases the TLS contexts kept for materials. */
  close(): Promise<void>;
}
