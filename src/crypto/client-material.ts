/**
 * Does a stored client material hold together, as a TLS client would use it: the certificate parses and
 * allows client authentication, the key is the certificate's, and the PKCS#12 (when present) opens with
 * its passphrase and carries the same certificate. Each failure has its own code (PEM_MALFORMED,
 * PEM_WRONG_KIND, CERT_INVALID, KEY_ENCRYPTED, KEY_MISMATCH, PFX_BAD_PASSPHRASE, PFX_MALFORMED,
 * MATERIAL_INVALID) naming the field, never its content. What the scan reports for broken material.
 *
 * A material that passed is remembered by a digest of its fields (bounded), so the scan of a large fleet
 * pays the key and PKCS#12 work once per material, not once per scan.
 */
import { createHash, type X509Certificate } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { hasClientAuth, inspectCertificate } from "./inspect.js";
import { keyMatchesCertificate } from "./match.js";
import { parseCertificatePem } from "./parse.js";
import { readPfx } from "./pkcs12-read.js";

export interface ClientMaterialFields {
  certPem: string;
  keyPem: string;
  pfxBase64?: string | undefined;
  pfxPassphrase?: string | undefined;
}

const checked = new Set<string>();
const MAX_CHECKED = 4096;

function digestOf(material: ClientMaterialFields): string {
  const hash = createHash("sha256");
  for (const value of [material.certPem, material.keyPem, material.pfxBase64, material.pfxPassphrase]) {
    hash.update(value ?? "").update("\0");
  }
  return hash.digest("hex");
}

function invalid(code: "CERT_INVALID" | "MATERIAL_INVALID", where: string, why: string): CertrotorError {
  return new CertrotorError(code, `${where}: ${why}`, { details: { where } });
}

function checkPfx(material: ClientMaterialFields, certificate: X509Certificate, where: string): void {
  if (material.pfxBase64 === undefined) return;
  if (!material.pfxPassphrase) {
    throw invalid("MATERIAL_INVALID", `${where} pfxBase64`, "a PKCS#12 is stored without its pfxPassphrase");
  }
  const compact = material.pfxBase64.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new CertrotorError("PFX_MALFORMED", `${where} pfxBase64: the PKCS#12 is not valid base64`, {
      details: { where },
    });
  }
  const pfx = readPfx(Buffer.from(compact, "base64"), material.pfxPassphrase, `${where} pfxBase64`);
  if (!parseCertificatePem(pfx.certPem, `${where} pfxBase64`).der.equals(certificate.raw)) {
    throw invalid(
      "MATERIAL_INVALID",
      `${where} pfxBase64`,
      "the PKCS#12 holds another certificate than certPem",
    );
  }
}

/**
 * The material's certificate (native), after every check above passed; throws the first failure's
 * coded error. `where` names the material, e.g. `credential "payments" current material`.
 */
export function checkClientMaterial(material: ClientMaterialFields, where: string): X509Certificate {
  const certificate = parseCertificatePem(material.certPem, `${where} certPem`).native;
  const digest = digestOf(material);
  if (checked.has(digest)) return certificate;
  if (!hasClientAuth(inspectCertificate(material.certPem, `${where} certPem`))) {
    throw invalid(
      "CERT_INVALID",
      `${where} certPem`,
      "the certificate does not allow TLS client authentication (no clientAuth in its extended key usage, or no digitalSignature)",
    );
  }
  if (!keyMatchesCertificate(material.keyPem, material.certPem, where)) {
    throw new CertrotorError(
      "KEY_MISMATCH",
      `${where}: keyPem does not belong to the certificate in certPem`,
      {
        details: { where },
      },
    );
  }
  checkPfx(material, certificate, where);
  if (checked.size >= MAX_CHECKED) checked.delete(checked.values().next().value!);
  checked.add(digest);
  return certificate;
}
