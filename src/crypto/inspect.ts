/**
 * Certificate inspection: what the policy, the scan and the saga need to know about a certificate.
 * Native `crypto.X509Certificate` gives validity, serial and public key; names, key usage bits,
 * basicConstraints and structured SANs come from @peculiar/asn1-x509's parse (native gives no subject
 * bytes or key usage bits, and its `ca` is false for a CA whose keyUsage lacks keyCertSign).
 */
import { createHash } from "node:crypto";
import type { KeyType } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import {
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltName,
  EXT,
  findExtension,
} from "./extensions.js";
import { keyTypeOf } from "./keys.js";
import { formatAsnName } from "./names.js";
import { extensionsOf, parseCertificatePem, subjectDerOf } from "./parse.js";
import { Memo } from "./memo.js";
import { certificateDer } from "./pem.js";

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

const inspected = new Memo<CertificateInfo>(256);

/** What a certificate says; parsed once per distinct PEM (the answer is a fresh copy each call). */
export function inspectCertificate(certPem: string, where = "certificate"): CertificateInfo {
  const info = inspected.get(certPem, () => parseInfo(certPem, where));
  return {
    ...info,
    notBefore: new Date(info.notBefore),
    notAfter: new Date(info.notAfter),
    sans: [...info.sans],
    keyUsage: [...info.keyUsage],
    extKeyUsage: [...info.extKeyUsage],
    subjectDer: Buffer.from(info.subjectDer),
  };
}

function parseInfo(certPem: string, where: string): CertificateInfo {
  const cert = parseCertificatePem(certPem, where);
  const { native } = cert;
  try {
    const extensions = extensionsOf(cert);
    const ku = findExtension(extensions, EXT.keyUsage);
    const eku = findExtension(extensions, EXT.extKeyUsage);
    const san = findExtension(extensions, EXT.subjectAltName);
    const bc = findExtension(extensions, EXT.basicConstraints);
    return {
      subject: formatAsnName(cert.asn.tbsCertificate.subject),
      issuer: formatAsnName(cert.asn.tbsCertificate.issuer),
      serialNumber: native.serialNumber.toLowerCase().replace(/^0+(?=.)/, ""),
      notBefore: new Date(native.validFrom),
      notAfter: new Date(native.validTo),
      fingerprint: createHash("sha256").update(cert.der).digest("hex"),
      sans: san ? decodeSubjectAltName(san) : [],
      keyUsage: ku ? decodeKeyUsage(ku) : [],
      extKeyUsage: eku ? decodeExtKeyUsage(eku) : [],
      isCa: bc ? decodeBasicConstraints(bc).ca : false,
      keyType: keyTypeOf(native.publicKey),
      publicKeyPem: native.publicKey.export({ type: "spki", format: "pem" }).toString(),
      subjectDer: subjectDerOf(cert),
    };
  } catch (error) {
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
