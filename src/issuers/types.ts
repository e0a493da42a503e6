/**
 * The issuer port: who signs a rotation's CSR. Adapters beside this file: local-ca.ts (the institution's
 * own CA, seed 002), vault-pki.ts (Vault PKI sign/<role>), bank.ts (the bank signs, seed 000),
 * bank-portal.ts (the bank signs in its portal: a person uploads the CSR, a human task).
 */

export type IssuerKind = "local-ca" | "vault-pki" | "bank" | "bank-portal";

export interface IssueRequest {
  csrPem: string;
  /** Idempotency: the same rotation and CSR yield the same certificate where the issuer supports it. */
  rotationId: string;
  credentialId: string;
  now: Date;
}

export interface IssuedCertificate {
  certPem: string;
  /** Issuer chain (intermediates, then the root), PEM; may be empty when the root signed directly. */
  chainPem: string;
}

export interface Issuer {
  readonly kind: IssuerKind;
  readonly name: string;
  /**
   * How the issued subject must match the requested one: "exact" (byte for byte, as our CA and the bank
   * sign), or "common-name" (Vault PKI `sign/<role>` rebuilds the subject from the CN and the role).
   */
  readonly subjectMatch: "exact" | "common-name";
  /** Read-only pre-flight run by plan: fails (e.g. CA_KEY_MISSING) before anything is generated or written. */
  check(): Promise<void>;
  issue(request: IssueRequest): Promise<IssuedCertificate>;
  /** The CA bundle (PEM) an issued certificate must chain to. */
  trustBundle(): Promise<string>;
  close(): Promise<void>;
}
