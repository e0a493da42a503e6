/**
 * What a consumer may switch to: material whose key belongs to its certificate and whose fingerprint is the
 * certificate's. A half-written file pair or a hand-edited secret fails here, so the watcher keeps the last
 * good material instead of handing a TLS stack something it cannot use.
 */
import { createHash, X509Certificate } from "node:crypto";
import { assertKeyMatchesCertificate } from "../crypto/match.js";
import { certificateDer } from "../crypto/pem.js";
import { CertrotorError } from "../errors.js";
import type { Material } from "../stores/types.js";

/** SHA-256 of the leaf's DER, lowercase hex (Material.fingerprint). */
export function certFingerprint(certPem: string, where: string): string {
  return createHash("sha256").update(certificateDer(certPem, where)).digest("hex");
}

/** The leaf's notAfter, ISO 8601 UTC. */
export function certNotAfter(certPem: string, where: string): string {
  try {
    return new Date(new X509Certificate(certificateDer(certPem, where)).validTo).toISOString();
  } catch (error) {
    if (error instanceof CertrotorError) throw error;
    throw new CertrotorError("PEM_MALFORMED", `${where}: the certificate cannot be parsed as X.509`, {
      cause: error,
      details: { where },
    });
  }
}

/** Throws a coded error (PEM_MALFORMED, KEY_MISMATCH, MATERIAL_INVALID) unless `material` is usable. */
export function assertUsable(material: Material, where: string): void {
  assertKeyMatchesCertificate(material.keyPem, material.certPem, where);
  if (certFingerprint(material.certPem, where) !== material.fingerprint.toLowerCase()) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `${where}: the fingerprint field is not the certificate's SHA-256`,
      { details: { where, field: "fingerprint" } },
    );
  }
}
