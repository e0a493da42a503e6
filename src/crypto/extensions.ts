/**
 * The X.509 v3 extensions certrotor writes and reads (RFC 5280 §4.2): basicConstraints, keyUsage,
 * extKeyUsage, subjectAltName, subject/authority key identifiers. Written with @peculiar/x509's
 * extension classes; read with @peculiar/asn1-x509's schemas straight from the extension list, because
 * @peculiar/x509's GeneralName refuses otherName SANs (ICP-Brasil certificates carry them).
 */
import { isIPv4, isIPv6 } from "node:net";
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
import { CertrotorError } from "../errors.js";
import { bytes, x509 } from "./x509.js";

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
const KEY_USAGES = [
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
const EKU_OIDS = Object.fromEntries(Object.entries(EKU_NAMES).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------- writing

export function basicConstraints(ca: boolean): x509.Extension {
  return new x509.BasicConstraintsExtension(ca, undefined, true);
}

export function keyUsage(usages: readonly KeyUsage[]): x509.Extension {
  const flags = usages.reduce((sum, usage) => sum | (1 << KEY_USAGES.indexOf(usage)), 0);
  return new x509.KeyUsagesExtension(flags, true);
}

/** Names ("clientAuth") or dotted OIDs. */
export function extKeyUsage(names: readonly string[]): x509.Extension {
  return new x509.ExtendedKeyUsageExtension(
    names.map((name) => EKU_OIDS[name] ?? name),
    false,
  );
}

/** RFC 5280 §4.2.1.2 method 1 (SHA-1 of the subjectPublicKey bits), as @peculiar/x509 computes it. */
export async function subjectKeyIdentifier(spkiDer: Buffer): Promise<x509.Extension> {
  return x509.SubjectKeyIdentifierExtension.create(bytes(spkiDer), false);
}

export function authorityKeyIdentifier(keyId: Buffer): x509.Extension {
  return new x509.AuthorityKeyIdentifierExtension(keyId.toString("hex"), false);
}

/** An extension read from a certificate or CSR, carried over unchanged. */
export function copyExtension(ext: AsnExtension): x509.Extension {
  return new x509.Extension(AsnConvert.serialize(ext));
}

/** "1.2.3.4", "2001:db8::7", "::ffff:192.0.2.1" (the dotted tail as hex groups: @peculiar reads hex only). */
function ipValue(text: string): string | undefined {
  if (isIPv4(text)) return text;
  if (!isIPv6(text) || text.includes("%")) return undefined;
  return text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(":"),
  );
}

const SAN_TYPES: Record<string, "dns" | "email" | "url"> = { dns: "dns", email: "email", uri: "url" };

function generalName(san: string, where: string): { type: "dns" | "email" | "url" | "ip"; value: string } {
  const colon = san.indexOf(":");
  const kind = san.slice(0, colon).toLowerCase();
  const value = san.slice(colon + 1);
  // dNSName, rfc822Name and URI are IA5String: ASCII only (IDNs go in as their punycode A-labels).
  if (colon > 0 && value !== "" && /^[\x21-\x7e]+$/.test(value)) {
    const type = SAN_TYPES[kind];
    if (type) return { type, value };
    const ip = kind === "ip" ? ipValue(value) : undefined;
    if (ip) return { type: "ip", value: ip };
  }
  throw new CertrotorError(
    "BAD_ARGUMENT",
    `${where}: "${san}" is not dns:, ip:, email: or uri: with a value`,
    {
      details: { where },
    },
  );
}

/** subjectAltName from "dns:x", "ip:1.2.3.4", "email:a@b", "uri:https://...". Throws BAD_ARGUMENT. */
export function subjectAltName(sans: readonly string[], where = "sans"): x509.Extension {
  return new x509.SubjectAlternativeNameExtension(
    sans.map((san) => generalName(san, where)),
    false,
  );
}

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
