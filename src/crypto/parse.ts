/**
 * Certificate parsing shared by the crypto core: native `crypto.X509Certificate` (OpenSSL: validity,
 * public key, serial, signature checks) beside @peculiar/asn1-x509's structure (names, extensions),
 * each used for what it gives.
 */
import { X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate as AsnCertificate } from "@peculiar/asn1-x509";
import { CertrotorError } from "../errors.js";
import type { AsnExtension } from "./extensions.js";
import type { AsnName } from "./names.js";
import { certificateDer } from "./pem.js";
import { bytes } from "./bytes.js";

export interface ParsedCertificate {
  der: Buffer;
  native: X509Certificate;
  asn: AsnCertificate;
}

/**
 * Parsed certificates by DER, most recently used last. The same few certificates are parsed over and over
 * (the issuing CA at every chain check, a credential's cert in plan, issue, scan and at the bank), and the
 * ASN.1 parse costs more than the signature checks. Certificates are public and a parse is a pure function
 * of the bytes, so sharing one is safe; callers only read it.
 */
const parsed = new Map<string, ParsedCertificate>();
const MAX_PARSED = 512;

/** Parses a certificate's DER with both parsers; PEM_MALFORMED naming `where` on failure. */
export function parseCertificate(der: Buffer, where: string): ParsedCertificate {
  const key = der.toString("latin1");
  const known = parsed.get(key);
  if (known) {
    parsed.delete(key);
    parsed.set(key, known);
    return known;
  }
  try {
    const cert = {
      der: Buffer.from(der),
      native: new X509Certificate(der),
      asn: AsnConvert.parse(der, AsnCertificate),
    };
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, cert);
    return cert;
  } catch (error) {
    throw new CertrotorError("PEM_MALFORMED", `${where}: the certificate cannot be parsed as X.509`, {
      cause: error,
      details: { where },
    });
  }
}

/** The first certificate of `pem`, parsed. */
export function parseCertificatePem(pem: string, where: string): ParsedCertificate {
  return parseCertificate(certificateDer(pem, where), where);
}

export function extensionsOf(cert: ParsedCertificate): AsnExtension[] {
  return [...(cert.asn.tbsCertificate.extensions ?? [])];
}

export function nameDer(name: AsnName): Buffer {
  return bytes(AsnConvert.serialize(name));
}

/**
 * The DER of a Name read from a signed structure, when the library's encoding of it is the one that was
 * signed: it then occurs verbatim in `signedPart`. Every DER name with valid strings does; a non-DER
 * length or a malformed string would be re-encoded, and a copy of it would no longer be the same name.
 */
export function exactNameDer(name: AsnName, signedPart: ArrayBuffer | undefined): Buffer | undefined {
  const der = nameDer(name);
  return occursIn(der, signedPart) ? der : undefined;
}

/** Whether `encoding` occurs verbatim in `signedPart`. */
export function occursIn(encoding: ArrayBuffer | Buffer, signedPart: ArrayBuffer | undefined): boolean {
  const needle = Buffer.isBuffer(encoding) ? encoding : Buffer.from(encoding);
  return signedPart !== undefined && Buffer.from(signedPart).includes(needle);
}

export function subjectDerOf(cert: ParsedCertificate): Buffer {
  return nameDer(cert.asn.tbsCertificate.subject);
}

export function issuerDerOf(cert: ParsedCertificate): Buffer {
  return nameDer(cert.asn.tbsCertificate.issuer);
}
