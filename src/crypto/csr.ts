/**
 * Certificate signing requests (PKCS#10) and their verification. A CSR made from an existing certificate
 * carries that certificate's subject DER and SAN extension unchanged: every RDN in order, string types and
 * unusual attributes (UID, serialNumber, ICP-Brasil OIDs) included. Both directions are synchronous:
 * @peculiar/asn1-csr encodes and parses, node:crypto signs and verifies. (Signing through @peculiar/x509's
 * generator and WebCrypto cost a key import per new key and a thread-pool trip per signature, about 4 ms
 * of a P-256 rotation.)
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { CertificationRequest, CertificationRequestInfo } from "@peculiar/asn1-csr";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Attribute, Extension, Extensions, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { CertrotorError } from "../errors.js";
import { type AsnExtension, decodeSubjectAltName, EXT, findExtension } from "./extensions.js";
import { copyExtension, subjectAltName } from "./extensions-write.js";
import { assertSupportedKey, privateKeyObject, spkiDerOf } from "./keys.js";
import { AsnName, formatAsnName, parseName } from "./names.js";
import { exactNameDer, extensionsOf, nameDer, occursIn, parseCertificatePem } from "./parse.js";
import { CSR_LABELS, expectBlock, toPem } from "./pem.js";
import { signedDer } from "./signature.js";
import { bytes, type x509 } from "./x509.js";

export interface CreateCsrOptions {
  keyPem: string;
  /** RFC 4514 text, or the DER of a Name copied byte for byte. */
  subject: string | Buffer;
  /** "dns:x", "ip:1.2.3.4", "email:a@b", "uri:...". */
  sans?: string[];
}

function generateCsr(key: KeyObject, subject: AsnName, extensions: x509.Extension[]): string {
  const info = new CertificationRequestInfo({
    subject,
    subjectPKInfo: AsnConvert.parse(spkiDerOf(key), SubjectPublicKeyInfo),
  });
  if (extensions.length > 0) {
    const requested = new Extensions(extensions.map((e) => AsnConvert.parse(e.rawData, Extension)));
    info.attributes.push(
      new Attribute({ type: EXTENSION_REQUEST, values: [AsnConvert.serialize(requested)] }),
    );
  }
  return toPem("CERTIFICATE REQUEST", signedDer(key, bytes(AsnConvert.serialize(info))));
}

function subjectOf(subject: string | Buffer): AsnName {
  if (typeof subject === "string") return parseName(subject, "CSR subject");
  let name: AsnName;
  try {
    name = AsnConvert.parse(subject, AsnName);
  } catch (error) {
    throw new CertrotorError("BAD_ARGUMENT", "CSR subject: the Name DER is malformed", { cause: error });
  }
  if (!nameDer(name).equals(subject))
    throw new CertrotorError("BAD_ARGUMENT", "CSR subject: the Name is not DER-encoded");
  return name;
}

export async function createCsr(opts: CreateCsrOptions): Promise<string> {
  const key = privateKeyObject(opts.keyPem, "CSR key");
  const extensions = opts.sans && opts.sans.length > 0 ? [subjectAltName(opts.sans, "CSR sans")] : [];
  return generateCsr(key, subjectOf(opts.subject), extensions);
}

/** A CSR for `keyPem` with the certificate's subject DER and SAN extension copied byte for byte. */
export async function createCsrFromCertificate(certPem: string, keyPem: string): Promise<string> {
  const where = "source certificate";
  const cert = parseCertificatePem(certPem, where);
  const signed = cert.asn.tbsCertificateRaw;
  const { subject } = cert.asn.tbsCertificate;
  const san = findExtension(extensionsOf(cert), EXT.subjectAltName);
  const sanCopy = san ? copyExtension(san) : undefined;
  if (!exactNameDer(subject, signed) || (sanCopy && !occursIn(sanCopy.rawData, signed))) {
    throw new CertrotorError(
      "CERT_INVALID",
      `${where}: the subject or SAN extension is not DER-encoded, so it cannot be copied byte for byte`,
      { details: { where } },
    );
  }
  return generateCsr(privateKeyObject(keyPem, "CSR key"), subject, sanCopy ? [sanCopy] : []);
}

export interface VerifiedCsr {
  /** DER of the subject Name, byte for byte as signed in the CSR. */
  subject: Buffer;
  /** RFC 4514 text of the subject. */
  subjectText: string;
  /** The first CN of the subject, if any. */
  commonName: string | undefined;
  /** SubjectPublicKeyInfo DER. */
  spki: Buffer;
  publicKey: KeyObject;
  /** SANs of the extensionRequest ("dns:x", "ip:1.2.3.4", ...); empty when there are none. */
  sans: string[];
}

/** A verified CSR with its SAN extension as requested (the local CA copies it). */
export interface CsrDetails extends VerifiedCsr {
  sanExtension: AsnExtension | undefined;
  /** The subject as parsed (its encoding is `subject`), so the CA does not parse it again. */
  subjectName: AsnName;
}

const HASHES: Record<string, { hash: string; key: "rsa" | "ec" }> = {
  "1.2.840.113549.1.1.11": { hash: "sha256", key: "rsa" },
  "1.2.840.113549.1.1.12": { hash: "sha384", key: "rsa" },
  "1.2.840.113549.1.1.13": { hash: "sha512", key: "rsa" },
  "1.2.840.10045.4.3.2": { hash: "sha256", key: "ec" },
  "1.2.840.10045.4.3.3": { hash: "sha384", key: "ec" },
  "1.2.840.10045.4.3.4": { hash: "sha512", key: "ec" },
};
const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

function requestedExtensions(csr: CertificationRequest): AsnExtension[] {
  const attribute = csr.certificationRequestInfo.attributes.find((a) => a.type === EXTENSION_REQUEST);
  const value = attribute?.values[0];
  return value ? [...AsnConvert.parse(value, Extensions)] : [];
}

function parseCsr(der: Buffer, where: string) {
  const csr = AsnConvert.parse(der, CertificationRequest);
  const info = csr.certificationRequestInfo;
  const signed = csr.certificationRequestInfoRaw;
  const spki = bytes(AsnConvert.serialize(info.subjectPKInfo));
  const san = findExtension(requestedExtensions(csr), EXT.subjectAltName);
  const subject = exactNameDer(info.subject, signed);
  if (!subject || !signed || (san && !occursIn(AsnConvert.serialize(san), signed))) {
    throw new CertrotorError("CSR_INVALID", `${where}: the CSR's subject or SANs are not DER-encoded`, {
      details: { where },
    });
  }
  const text = formatAsnName(info.subject);
  const cn = [...info.subject]
    .flat()
    .find((atv) => atv.type === "2.5.4.3")
    ?.value.toString();
  const sans = san ? decodeSubjectAltName(san) : [];
  return { csr, signed, spki, san, sans, subject, text, cn };
}

/** Parses `csrPem` and checks its self-signature; CSR_INVALID (or PEM_*) naming `where` otherwise. */
export function verifyCsrDetails(csrPem: string, where = "CSR"): CsrDetails {
  const block = expectBlock(csrPem, CSR_LABELS, "a certificate signing request", where);
  const invalid = (why: string, cause?: unknown): CertrotorError =>
    new CertrotorError("CSR_INVALID", `${where}: ${why}`, { cause, details: { where } });
  let parsed: ReturnType<typeof parseCsr>;
  let publicKey: KeyObject;
  try {
    parsed = parseCsr(block.der, where);
    publicKey = createPublicKey({ key: parsed.spki, format: "der", type: "spki" });
  } catch (error) {
    if (error instanceof CertrotorError) throw error;
    throw invalid("the CSR cannot be parsed", error);
  }
  assertSupportedKey(publicKey, where);
  const algorithm = parsed.csr.signatureAlgorithm.algorithm;
  const scheme = HASHES[algorithm];
  if (!scheme || scheme.key !== publicKey.asymmetricKeyType) {
    throw invalid(`unsupported signature algorithm ${algorithm} with a ${publicKey.asymmetricKeyType} key`);
  }
  const signature = Buffer.from(parsed.csr.signature);
  const key = { key: publicKey, dsaEncoding: "der" as const };
  if (!verify(scheme.hash, Buffer.from(parsed.signed!), key, signature)) {
    throw invalid("the CSR signature does not verify with its own public key");
  }
  return {
    subject: parsed.subject,
    subjectText: parsed.text,
    commonName: parsed.cn,
    spki: parsed.spki,
    publicKey,
    sans: parsed.sans,
    sanExtension: parsed.san,
    subjectName: parsed.csr.certificationRequestInfo.subject,
  };
}

/** Parses `csrPem` and checks its self-signature; CSR_INVALID (or PEM_*) naming `where` otherwise. */
export function verifyCsr(csrPem: string, where = "CSR"): VerifiedCsr {
  return verifyCsrDetails(csrPem, where);
}
