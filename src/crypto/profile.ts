/**
 * Checks on what an issuer sends back, before the saga stages it (cert-manager's issuing controller
 * does the same): the certificate is for the CSR's key, and fits a TLS client at `now`.
 */
import { createPublicKey } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { verifyCsr } from "./csr.js";
import { type CertificateInfo, hasClientAuth, inspectCertificate } from "./inspect.js";

function invalid(where: string, why: string): CertrotorError {
  return new CertrotorError("CERT_INVALID", `${where}: ${why}`, { details: { where } });
}

/** Throws CERT_INVALID unless the certificate's public key is the CSR's. Returns the certificate's info. */
export function assertIssuedForCsr(certPem: string, csrPem: string, where: string): CertificateInfo {
  const info = inspectCertificate(certPem, where);
  const csrKey = verifyCsr(csrPem, `${where} (CSR)`).publicKey;
  const certKey = createPublicKey(info.publicKeyPem);
  const same = csrKey
    .export({ type: "spki", format: "der" })
    .equals(certKey.export({ type: "spki", format: "der" }));
  if (!same) throw invalid(where, "the issued certificate is not for the CSR's public key");
  return info;
}

/**
 * Throws CERT_INVALID unless the certificate may authenticate a TLS client (EKU/key usage), is not a CA,
 * and is valid at `now`. Returns its info.
 */
export function assertClientCertificate(
  certPem: string,
  where: string,
  now: Date = new Date(),
): CertificateInfo {
  const info = inspectCertificate(certPem, where);
  if (!hasClientAuth(info)) throw invalid(where, "the certificate does not allow TLS client authentication");
  if (info.isCa) throw invalid(where, "the certificate is a CA certificate, not a client certificate");
  if (now < info.notBefore)
    throw invalid(where, `the certificate is not valid before ${info.notBefore.toISOString()}`);
  if (now > info.notAfter) throw invalid(where, `the certificate expired at ${info.notAfter.toISOString()}`);
  return info;
}
