/**
 * The X.509 v3 extensions certrotor writes and reads (RFC 5280 §4.2): basicConstraints, keyUsage,
 * extKeyUsage, subjectAltName, subject/authority key identifiers. Read here with @peculiar/asn1-x509's
 * schemas straight from the extension list, because @peculiar/x509's GeneralName refuses otherName SANs
 * (ICP-Brasil certificates carry them); written by extensions-write.ts with @peculiar/x509's classes, a
 * file of its own so that reading a certificate (status, scan) does not load @peculiar/x509.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  BasicConstraints,
  type Extension as AsnExtension,
  ExtendedKeyUsage,
  type GeneralName,
  KeyUsage as AsnKeyUsage,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from "@peculiar/asn1-x509";
import { bytes } from "./bytes.js";

export type { AsnExtension };

export const EXT = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
} as const;

/** RFC 5280 §4.2.1.3 bit order (bit 0 first), which is also @peculiar's KeyUsageFlags order. */
export const KEY_USAGES = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

const EKU_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  "1.3.6.1.5.5.7.3.3": "codeSigning",
  "1.3.6.1.5.5.7.3.4": "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "OCSPSigning",
  "2.5.29.37.0": "anyExtendedKeyUsage",
};
export const EKU_OIDS = Object.fromEntries(Object.entries(EKU_NAMES).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------- reading

export function findExtension(
  extensions: readonly AsnExtension[] | undefined,
  oid: string,
): AsnExtension | undefined {
  return extensions?.find((ext) => ext.extnID === oid);
}

export function decodeKeyUsage(ext: AsnExtension): KeyUsage[] {
  const flags = AsnConvert.parse(ext.extnValue.buffer, AsnKeyUsage).toNumber();
  return KEY_USAGES.filter((_, bit) => (flags & (1 << bit)) !== 0);
}

export function decodeExtKeyUsage(ext: AsnExtension): string[] {
  return [...AsnConvert.parse(ext.extnValue.buffer, ExtendedKeyUsage)].map((oid) => EKU_NAMES[oid] ?? oid);
}

export function decodeBasicConstraints(ext: AsnExtension): { ca: boolean } {
  return { ca: AsnConvert.parse(ext.extnValue.buffer, BasicConstraints).cA === true };
}

export function decodeKeyIdentifier(ext: AsnExtension): Buffer {
  return bytes(AsnConvert.parse(ext.extnValue.buffer, SubjectKeyIdentifier).buffer);
}

function formatGeneralName(name: GeneralName): string {
  if (name.dNSName !== undefined) return `dns:${name.dNSName}`;
  if (name.iPAddress !== undefined) return `ip:${name.iPAddress}`;
  if (name.rfc822Name !== undefined) return `email:${name.rfc822Name}`;
  if (name.uniformResourceIdentifier !== undefined) return `uri:${name.uniformResourceIdentifier}`;
  // GeneralName's CHOICE tags (RFC 5280 §4.2.1.6) for the kinds certrotor only counts.
  if (name.otherName) return "other:[0]";
  if (name.x400Address !== undefined) return "other:[3]";
  if (name.directoryName) return "other:[4]";
  if (name.ediPartyName) return "other:[5]";
  return "other:[8]";
}

/** SAN entries as "dns:x", "ip:1.2.3.4", "email:a@b", "uri:..."; other kinds as "other:[n]". */
export function decodeSubjectAltName(ext: AsnExtension): string[] {
  return [...AsnConvert.parse(ext.extnValue.buffer, SubjectAlternativeName)].map(formatGeneralName);
}
