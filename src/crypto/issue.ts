/**
 * Certificate issuance: the general `issueCertificate` (a subject, a public key, an issuing CA and a
 * profile), and the issuer loading and signing step it shares with the local CA (src/crypto/ca.ts). The
 * TBSCertificate is encoded with @peculiar/asn1-x509 as @peculiar/x509's generator encodes it, and signed
 * by node:crypto synchronously (signature.ts): the generator's WebCrypto signature and key-identifier
 * digest were two thread-pool trips per certificate.
 */
import { createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  Extension,
  Extensions,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from "@peculiar/asn1-x509";
import { CertrotorError } from "../errors.js";
import {
  decodeBasicConstraints,
  decodeKeyIdentifier,
  EXT,
  findExtension,
  type KeyUsage,
} from "./extensions.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  extKeyUsage,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
} from "./extensions-write.js";
import { assertSupportedKey, privateKeyObject, spkiDerOf } from "./keys.js";
import { assertKeyMatchesCertificate } from "./match.js";
import { AsnName, parseName } from "./names.js";
import { extensionsOf, parseCertificatePem } from "./parse.js";
import { toPem } from "./pem.js";
import { Memo } from "./memo.js";
import { signatureAlgorithmOf, signedDer } from "./signature.js";
import { arrayBuffer, bytes } from "./bytes.js";
import { x509 } from "./x509.js";

/** CAs backdate notBefore a little so a relying party whose clock lags accepts a fresh cert at once. */
export const NOT_BEFORE_BACKDATE_MS = 5 * 60_000;

/** A random positive 128-bit serial (RFC 5280 allows 20 octets; CA/B Forum asks for ≥ 64 random bits). */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f || 0x01; // positive with all 16 octets, so the DER is minimal and the size fixed
  return serial;
}

export interface Issuer {
  name: AsnName;
  key: KeyObject;
  /** What the issued certificate's authorityKeyIdentifier carries. */
  keyId: Buffer;
}

/** The issuing CA: its key must belong to its certificate (KEY_MISMATCH), which must be a CA (CERT_INVALID). */
export async function loadIssuer(certPem: string, keyPem: string, label = "issuing CA"): Promise<Issuer> {
  const where = `${label} certificate`;
  const cert = parseCertificatePem(certPem, where);
  const key = privateKeyObject(keyPem, `${label} key`);
  assertKeyMatchesCertificate(keyPem, certPem, label);
  const extensions = extensionsOf(cert);
  const bc = findExtension(extensions, EXT.basicConstraints);
  if (!bc || !decodeBasicConstraints(bc).ca) {
    throw new CertrotorError(
      "CERT_INVALID",
      `${where}: the issuing certificate is not a CA (basicConstraints CA:true)`,
    );
  }
  const ski = findExtension(extensions, EXT.subjectKeyIdentifier);
  const spki = cert.native.publicKey.export({ type: "spki", format: "der" });
  const keyId = ski
    ? decodeKeyIdentifier(ski)
    : bytes(await new x509.PublicKey(bytes(spki)).getKeyIdentifier());
  return { name: cert.asn.tbsCertificate.subject, key, keyId };
}

export interface CertificateTemplate {
  serial: Buffer;
  /** A parsed Name, or the DER of one. */
  subject: AsnName | Buffer;
  spkiDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** The profile's extensions; subject and authority key identifiers are added here. */
  extensions: x509.Extension[];
}

/** `serial` as the DER INTEGER content of a positive number: no leading zero octets, a 0x00 before a high bit. */
function positiveInteger(serial: Buffer): Buffer {
  let first = 0;
  while (first < serial.length - 1 && serial[first] === 0) first++;
  const digits = serial.subarray(first);
  if (digits.length === 0 || (digits.length === 1 && digits[0] === 0)) {
    throw new CertrotorError("BAD_ARGUMENT", "certificate serial: must be a positive number");
  }
  return digits[0]! > 0x7f ? Buffer.concat([Buffer.from([0]), digits]) : Buffer.from(digits);
}

/** Signs `template` as `issuer` (or self-signed when `issuer` is the subject's own key and name). */
export async function signCertificate(template: CertificateTemplate, issuer: Issuer): Promise<string> {
  if (template.notAfter.getTime() <= template.notBefore.getTime()) {
    throw new CertrotorError("BAD_ARGUMENT", "certificate validity: notAfter is not after notBefore");
  }
  const spki = AsnConvert.parse(template.spkiDer, SubjectPublicKeyInfo);
  const extensions = [
    ...template.extensions,
    subjectKeyIdentifier(spki.subjectPublicKey),
    authorityKeyIdentifier(issuer.keyId),
  ];
  const { algorithm } = signatureAlgorithmOf(issuer.key);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: arrayBuffer(positiveInteger(template.serial)),
    signature: algorithm,
    issuer: issuer.name,
    validity: new Validity({ notBefore: template.notBefore, notAfter: template.notAfter }),
    subject: Buffer.isBuffer(template.subject)
      ? AsnConvert.parse(template.subject, AsnName)
      : template.subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions.map(parsedExtension)),
  });
  return toPem("CERTIFICATE", signedDer(issuer.key, bytes(AsnConvert.serialize(tbs))));
}

/**
 * Extensions parsed for a TBSCertificate, by DER. A leaf profile's basicConstraints, keyUsage and EKU are
 * the same bytes at every signing; the parse is a pure function of them, and serializing only reads it.
 */
const parsedExtensions = new Memo<Extension>(64);

function parsedExtension(extension: x509.Extension): Extension {
  const der = Buffer.from(extension.rawData);
  return parsedExtensions.get(der.toString("latin1"), () => AsnConvert.parse(der, Extension));
}

export interface IssueCertificateOptions {
  /** RFC 4514 text ("CN=x,O=Acme,C=BR"), or the DER of a Name. */
  subject: string | Buffer;
  /** The subject's public key: SPKI PEM, or a KeyObject (public or private). */
  publicKey: string | KeyObject;
  /** The issuing CA; its key must match and it must be a CA. */
  issuer: { certPem: string; keyPem: string };
  notBefore: Date;
  notAfter: Date;
  /** Positive serial, big-endian; a random 128-bit one by default. */
  serial?: Buffer;
  /** basicConstraints (critical) CA flag; false by default. */
  ca?: boolean;
  /** keyUsage (critical); left out when absent or empty. */
  keyUsage?: KeyUsage[];
  /** extKeyUsage names ("clientAuth") or OIDs; left out when absent or empty. */
  extKeyUsage?: string[];
  /** subjectAltName from "dns:x", "ip:1.2.3.4", "email:a@b", "uri:..."; left out when absent or empty. */
  sans?: string[];
}

/**
 * Issues a certificate with any profile (the sandbox's TLS server certificate, the Vault PKI emulator's
 * role-shaped certificates). Subject and authority key identifiers are always added.
 */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<string> {
  const given = opts.publicKey;
  const publicKey = typeof given !== "string" && given.type === "public" ? given : createPublicKey(given);
  assertSupportedKey(publicKey, "certificate public key");
  const profile = [
    basicConstraints(opts.ca ?? false),
    ...(opts.keyUsage?.length ? [keyUsage(opts.keyUsage)] : []),
    ...(opts.extKeyUsage?.length ? [extKeyUsage(opts.extKeyUsage)] : []),
    ...(opts.sans?.length ? [subjectAltName(opts.sans, "certificate sans")] : []),
  ];
  const template: CertificateTemplate = {
    serial: opts.serial ?? randomSerial(),
    subject: typeof opts.subject === "string" ? parseName(opts.subject, "certificate subject") : opts.subject,
    spkiDer: spkiDerOf(publicKey),
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    extensions: profile,
  };
  return signCertificate(template, await loadIssuer(opts.issuer.certPem, opts.issuer.keyPem));
}
