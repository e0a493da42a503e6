/**
 * The X.509 v3 extensions certrotor writes and reads (RFC 5280 §4.2): basicConstraints, keyUsage,
 * extKeyUsage, subjectAltName, subject/authority key identifiers.
 */
import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { CertrotorError } from "../errors.js";
import {
  bool,
  children,
  content,
  DerError,
  implicitPrimitive,
  octets,
  oid,
  readBitString,
  readOid,
  readRoot,
  seq,
  TAG,
  tlv,
} from "./der.js";

export const EXT = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
} as const;

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
const EKU_OIDS = Object.fromEntries(Object.entries(EKU_NAMES).map(([k, v]) => [v, k]));

export interface Extension {
  oid: string;
  critical: boolean;
  /** extnValue's content: the DER of the extension's own value. */
  value: Buffer;
}

// ---------------------------------------------------------------- writing

export function encodeExtension(ext: Extension): Buffer {
  return seq(oid(ext.oid), ...(ext.critical ? [bool(true)] : []), octets(ext.value));
}

export function basicConstraints(ca: boolean): Extension {
  return { oid: EXT.basicConstraints, critical: true, value: ca ? seq(bool(true)) : seq() };
}

export function keyUsage(usages: readonly KeyUsage[]): Extension {
  const bits = usages.map((u) => KEY_USAGES.indexOf(u));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = bytes.length * 8 - (highest + 1);
  return { oid: EXT.keyUsage, critical: true, value: tlv(TAG.BIT_STRING, Buffer.from([unused]), bytes) };
}

export function extKeyUsage(names: readonly string[]): Extension {
  return { oid: EXT.extKeyUsage, critical: false, value: seq(...names.map((n) => oid(EKU_OIDS[n] ?? n))) };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
export function keyIdentifierOf(spkiDer: Buffer): Buffer {
  const [, publicKey] = children(readRoot(spkiDer));
  return createHash("sha1").update(readBitString(publicKey!).bytes).digest();
}

export function subjectKeyIdentifier(keyId: Buffer): Extension {
  return { oid: EXT.subjectKeyIdentifier, critical: false, value: octets(keyId) };
}

export function authorityKeyIdentifier(keyId: Buffer): Extension {
  return { oid: EXT.authorityKeyIdentifier, critical: false, value: seq(implicitPrimitive(0, keyId)) };
}

function ipBytes(text: string): Buffer | undefined {
  if (isIPv4(text)) return Buffer.from(text.split(".").map(Number));
  if (!isIPv6(text)) return undefined;
  let head = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    head = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = head.split("::") as [string, string | undefined];
  const groups = (part: string | undefined): string[] => (part ? part.split(":") : []);
  const fill = 8 - groups(left).length - groups(right).length;
  const all =
    right === undefined ? groups(left) : [...groups(left), ...Array(fill).fill("0"), ...groups(right)];
  return Buffer.from(all.map((g) => g.padStart(4, "0")).join(""), "hex");
}

/** GeneralNames DER from "dns:x", "ip:1.2.3.4", "email:a@b", "uri:https://...". Throws BAD_ARGUMENT. */
export function subjectAltName(sans: readonly string[], where = "sans"): Extension {
  const names = sans.map((san) => {
    const colon = san.indexOf(":");
    const kind = san.slice(0, colon).toLowerCase();
    const value = san.slice(colon + 1);
    const ip = kind === "ip" ? ipBytes(value) : undefined;
    // dNSName, rfc822Name and URI are IA5String: ASCII only (IDNs go in as their punycode A-labels).
    if (colon > 0 && value !== "" && /^[\x21-\x7e]+$/.test(value)) {
      if (kind === "dns") return implicitPrimitive(2, Buffer.from(value, "latin1"));
      if (kind === "email") return implicitPrimitive(1, Buffer.from(value, "latin1"));
      if (kind === "uri") return implicitPrimitive(6, Buffer.from(value, "latin1"));
      if (ip) return implicitPrimitive(7, ip);
    }
    throw new CertrotorError(
      "BAD_ARGUMENT",
      `${where}: "${san}" is not dns:, ip:, email: or uri: with a value`,
      {
        details: { where },
      },
    );
  });
  return { oid: EXT.subjectAltName, critical: false, value: seq(...names) };
}

// ---------------------------------------------------------------- reading

/** The Extension list in an `Extensions` SEQUENCE's DER. */
export function decodeExtensions(extensionsDer: Buffer): Extension[] {
  return children(readRoot(extensionsDer)).map((node) => {
    const parts = children(node);
    const critical = parts.length === 3 && parts[1]!.tag === TAG.BOOLEAN && content(parts[1]!)[0] !== 0;
    const value = parts[parts.length - 1];
    if (!value || value.tag !== TAG.OCTET_STRING) throw new DerError("Extension without extnValue");
    return { oid: readOid(parts[0]!), critical, value: content(value) };
  });
}

export function decodeKeyUsage(value: Buffer): KeyUsage[] {
  const { bytes } = readBitString(readRoot(value));
  return KEY_USAGES.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

export function decodeExtKeyUsage(value: Buffer): string[] {
  return children(readRoot(value)).map((node) => {
    const dotted = readOid(node);
    return EKU_NAMES[dotted] ?? dotted;
  });
}

export function decodeBasicConstraints(value: Buffer): { ca: boolean } {
  const [first] = children(readRoot(value));
  return { ca: first?.tag === TAG.BOOLEAN && content(first)[0] !== 0 };
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join(".");
  if (bytes.length !== 16) return `#${bytes.toString("hex")}`;
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.start < 0) return groups.join(":");
  const left = groups.slice(0, best.start).join(":");
  const right = groups.slice(best.start + best.length).join(":");
  return `${left}::${right}`;
}

/** SAN entries as "dns:x", "ip:1.2.3.4", "email:a@b", "uri:..."; other kinds as "other:[n]". */
export function decodeSubjectAltName(value: Buffer): string[] {
  return children(readRoot(value)).map((node) => {
    const body = content(node);
    switch (node.tag) {
      case 0x81:
        return `email:${body.toString("latin1")}`;
      case 0x82:
        return `dns:${body.toString("latin1")}`;
      case 0x86:
        return `uri:${body.toString("latin1")}`;
      case 0x87:
        return `ip:${formatIp(body)}`;
      default:
        return `other:[${node.tag & 0x1f}]`;
    }
  });
}
