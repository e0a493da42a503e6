/** The X.509 v3 extensions certrotor writes, as @peculiar/x509 extension objects (see extensions.ts). */
import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CertrotorError } from "../errors.js";
import { type AsnExtension, EKU_OIDS, KEY_USAGES, type KeyUsage } from "./extensions.js";
import { Memo } from "./memo.js";
import { x509 } from "./x509.js";

/**
 * A signing profile's fixed extensions, by their arguments: every leaf gets the same few, and making one
 * encodes it (about 50 us each). Extensions are read, never changed, by the CSR and certificate writers.
 */
const fixed = new Memo<x509.Extension>(32);

export function basicConstraints(ca: boolean): x509.Extension {
  return fixed.get(`bc:${ca}`, () => new x509.BasicConstraintsExtension(ca, undefined, true));
}

export function keyUsage(usages: readonly KeyUsage[]): x509.Extension {
  const flags = usages.reduce((sum, usage) => sum | (1 << KEY_USAGES.indexOf(usage)), 0);
  return fixed.get(`ku:${flags}`, () => new x509.KeyUsagesExtension(flags, true));
}

/** Names ("clientAuth") or dotted OIDs. */
export function extKeyUsage(names: readonly string[]): x509.Extension {
  const oids = names.map((name) => EKU_OIDS[name] ?? name);
  return fixed.get(`eku:${oids.join(",")}`, () => new x509.ExtendedKeyUsageExtension(oids, false));
}

/** RFC 5280 §4.2.1.2 method 1 (SHA-1 of the subjectPublicKey bits), as @peculiar/x509 computes it. */
export function subjectKeyIdentifier(subjectPublicKey: ArrayBuffer): x509.Extension {
  const keyId = createHash("sha1").update(Buffer.from(subjectPublicKey)).digest("hex");
  return new x509.SubjectKeyIdentifierExtension(keyId, false);
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
