/**
 * Certificate inspection: what the policy, the scan and the saga need to know about a certificate.
 * Native `crypto.X509Certificate` parses and gives the public key and serial; the raw subject DER, key
 * usage bits, basicConstraints and structured SANs come from certrotor's own DER walk (native gives no
 * subject bytes or key usage bits, and its `ca` is false for a CA whose keyUsage lacks keyCertSign).
 */
import { createHash, X509Certificate } from "node:crypto";
import type { KeyType } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { DerError } from "./der.js";
import {
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltName,
  EXT,
  type Extension,
} from "./extensions.js";
import { keyTypeOf } from "./keys.js";
import { formatName } from "./names.js";
import { certificateDer } from "./pem.js";
import { type CertificateParts, certificateParts } from "./structure.js";

export interface CertificateInfo {
  /** RFC 4514 ("CN=client,O=Acme,C=BR"); unknown attribute types as OID=#hex. */
  subject: string;
  issuer: string;
  /** Lowercase hex, no leading zeros. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lowercase hex without colons (RFC 8705's x5t#S256 is the base64url of the same bytes). */
  fingerprint: string;
  /** "dns:x", "ip:1.2.3.4", "email:a@b", "uri:..." in certificate order. */
  sans: string[];
  /** keyUsage names (RFC 5280 spelling); empty when the extension is absent. */
  keyUsage: string[];
  /** extKeyUsage names ("clientAuth") or dotted OIDs; empty when the extension is absent. */
  extKeyUsage: string[];
  isCa: boolean;
  keyType: KeyType | "other";
  publicKeyPem: string;
  /** DER of the subject Name, byte for byte as in the certificate. */
  subjectDer: Buffer;
}

/** Parses a certificate's DER into native and raw parts; PEM_MALFORMED naming `where` on failure. */
export function parseCertificateDer(
  der: Buffer,
  where: string,
): { native: X509Certificate; parts: CertificateParts } {
  try {
    return { native: new X509Certificate(der), parts: certificateParts(der) };
  } catch (error) {
    throw new CertrotorError("PEM_MALFORMED", `${where}: the certificate cannot be parsed as X.509`, {
      cause: error,
      details: { where },
    });
  }
}

function extension(parts: CertificateParts, oid: string): Extension | undefined {
  return parts.extensions.find((ext) => ext.oid === oid);
}

export function inspectCertificate(certPem: string, where = "certificate"): CertificateInfo {
  const der = certificateDer(certPem, where);
  const { native, parts } = parseCertificateDer(der, where);
  try {
    const ku = extension(parts, EXT.keyUsage);
    const eku = extension(parts, EXT.extKeyUsage);
    const san = extension(parts, EXT.subjectAltName);
    const bc = extension(parts, EXT.basicConstraints);
    return {
      subject: formatName(parts.subject),
      issuer: formatName(parts.issuer),
      serialNumber: native.serialNumber.toLowerCase().replace(/^0+(?=.)/, ""),
      notBefore: parts.notBefore,
      notAfter: parts.notAfter,
      fingerprint: createHash("sha256").update(der).digest("hex"),
      sans: san ? decodeSubjectAltName(san.value) : [],
      keyUsage: ku ? decodeKeyUsage(ku.value) : [],
      extKeyUsage: eku ? decodeExtKeyUsage(eku.value) : [],
      isCa: bc ? decodeBasicConstraints(bc.value).ca : false,
      keyType: keyTypeOf(native.publicKey),
      publicKeyPem: native.publicKey.export({ type: "spki", format: "pem" }).toString(),
      subjectDer: Buffer.from(parts.subject),
    };
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    throw new CertrotorError("PEM_MALFORMED", `${where}: a certificate extension or name is malformed`, {
      cause: error,
      details: { where },
    });
  }
}

/** SHA-256 of the first certificate's DER in `certPem`, lowercase hex without colons. */
export function fingerprintOf(certPem: string, where = "certificate"): string {
  return createHash("sha256").update(certificateDer(certPem, where)).digest("hex");
}

/**
 * Whether the certificate may authenticate a TLS client: EKU absent (any use, RFC 5280 §4.2.1.12) or
 * listing clientAuth/anyExtendedKeyUsage, and keyUsage absent or allowing digitalSignature.
 */
export function hasClientAuth(info: Pick<CertificateInfo, "extKeyUsage" | "keyUsage">): boolean {
  const ekuOk =
    info.extKeyUsage.length === 0 ||
    info.extKeyUsage.includes("clientAuth") ||
    info.extKeyUsage.includes("anyExtendedKeyUsage");
  const kuOk = info.keyUsage.length === 0 || info.keyUsage.includes("digitalSignature");
  return ekuOk && kuOk;
}
