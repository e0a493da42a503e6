/**
 * The JSON forms of the sandbox's records, shared by the admin API and the portal (snake_case, ISO dates),
 * and how a path segment names a certificate.
 */
import type { BindingView, CertificateRecord, CertificateRef, CredentialRecord } from "./state.js";

export const credentialJson = (record: CredentialRecord) => ({
  client_id: record.clientId,
  status: record.status,
  allowed_ips: record.allowedIps,
  portal_only: record.portalOnly,
  max_certificates: record.maxCertificates,
  trust_ca: record.trustCa ? { subject: record.trustCa.subject } : null,
  created_at: record.createdAt.toISOString(),
  updated_at: record.updatedAt.toISOString(),
});

export const certificateJson = (record: CertificateRecord) => ({
  id: record.id,
  fingerprint: record.fingerprint,
  subject: record.subject,
  issuer: record.issuer,
  not_before: record.notBefore.toISOString(),
  not_after: record.notAfter.toISOString(),
  registered_at: record.registeredAt.toISOString(),
});

export const bindingJson = (view: BindingView) => ({
  id: view.certificate.id,
  fingerprint: view.certificate.fingerprint,
  subject: view.certificate.subject,
  not_after: view.certificate.notAfter.toISOString(),
  bound_at: view.boundAt.toISOString(),
  last_used_at: view.lastUsedAt?.toISOString() ?? null,
});

/** A path segment naming a certificate: its id ("crt-...") or its SHA-256 fingerprint (hex). */
export const refFromPath = (text: string): CertificateRef =>
  /^[0-9a-f:]{64,95}$/i.test(text) ? { fingerprint: text } : { certificateId: text };
