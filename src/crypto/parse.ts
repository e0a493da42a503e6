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
import { CLASS, childrenOf, decode, MalformedDer } from "./der.js";

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

/** A certificate's issuer and subject Names as its DER holds them, by parse (parses are shared). */
const namesOf = new WeakMap<ParsedCertificate, { issuer: Buffer; subject: Buffer }>();

/**
 * The issuer and subject of `cert`, sliced from its TBSCertificate (version [0] when present, serial,
 * signature, issuer, validity, subject): the bytes that were signed, where re-encoding the parsed Names
 * cost about 70 us each and gave other bytes for a name that is not DER. Falls back to re-encoding if the
 * walk fails, which a certificate both parsers accepted never does.
 */
function tbsNames(cert: ParsedCertificate): { issuer: Buffer; subject: Buffer } {
  const known = namesOf.get(cert);
  if (known) return known;
  let names: { issuer: Buffer; subject: Buffer };
  try {
    const [tbs] = childrenOf(decode(cert.der));
    const fields = childrenOf(tbs!);
    const at = fields[0]?.cls === CLASS.CONTEXT && fields[0].tag === 0 ? 1 : 0;
    const issuer = fields[at + 2];
    const subject = fields[at + 4];
    if (!issuer || !subject) throw new MalformedDer("the TBSCertificate is too short");
    names = { issuer: Buffer.from(issuer.raw), subject: Buffer.from(subject.raw) };
  } catch {
    const { issuer, subject } = cert.asn.tbsCertificate;
    names = { issuer: nameDer(issuer), subject: nameDer(subject) };
  }
  namesOf.set(cert, names);
  return names;
}

/** DER of the subject Name, byte for byte as in the certificate (a copy: callers may keep it). */
export function subjectDerOf(cert: ParsedCertificate): Buffer {
  return Buffer.from(tbsNames(cert).subject);
}

/** DER of the issuer Name, byte for byte as in the certificate (a copy: callers may keep it). */
export function issuerDerOf(cert: ParsedCertificate): Buffer {
  return Buffer.from(tbsNames(cert).issuer);
}
