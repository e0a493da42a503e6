/**
 * Distinguished names as RFC 4514 strings ("CN=Acme Issuing CA,O=Acme,C=BR": the most specific RDN
 * first, so the DER order is the reverse of the text). The Name structure and its encoding are
 * @peculiar/asn1-x509's; this file only maps RFC 4514 text to and from it (@peculiar/x509's own Name
 * string form keeps DER order, knows fewer attribute names and no hex escapes, so it cannot be used
 * here). Unknown attribute types are written as dotted OIDs with their DER value in hex
 * ("2.16.76.1.3.3=#0c0e3132...") as RFC 4514 §2.4 prescribes, so nothing is lost.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  Name as AsnName,
  AttributeTypeAndValue,
  AttributeValue,
  RelativeDistinguishedName,
} from "@peculiar/asn1-x509";
import { CertrotorError } from "../errors.js";
import { arrayBuffer, bytes } from "./bytes.js";

export { AsnName };

type StringKind = "utf8String" | "printableString" | "ia5String";

interface AttributeSpec {
  name: string;
  oid: string;
  kind: StringKind;
}

const ATTRIBUTES: AttributeSpec[] = [
  { name: "CN", oid: "2.5.4.3", kind: "utf8String" },
  { name: "SN", oid: "2.5.4.4", kind: "utf8String" },
  { name: "serialNumber", oid: "2.5.4.5", kind: "printableString" },
  { name: "C", oid: "2.5.4.6", kind: "printableString" },
  { name: "L", oid: "2.5.4.7", kind: "utf8String" },
  { name: "ST", oid: "2.5.4.8", kind: "utf8String" },
  { name: "STREET", oid: "2.5.4.9", kind: "utf8String" },
  { name: "O", oid: "2.5.4.10", kind: "utf8String" },
  { name: "OU", oid: "2.5.4.11", kind: "utf8String" },
  { name: "title", oid: "2.5.4.12", kind: "utf8String" },
  { name: "businessCategory", oid: "2.5.4.15", kind: "utf8String" },
  { name: "postalCode", oid: "2.5.4.17", kind: "utf8String" },
  { name: "GN", oid: "2.5.4.42", kind: "utf8String" },
  { name: "dnQualifier", oid: "2.5.4.46", kind: "printableString" },
  { name: "organizationIdentifier", oid: "2.5.4.97", kind: "utf8String" },
  { name: "UID", oid: "0.9.2342.19200300.100.1.1", kind: "utf8String" },
  { name: "DC", oid: "0.9.2342.19200300.100.1.25", kind: "ia5String" },
  { name: "emailAddress", oid: "1.2.840.113549.1.9.1", kind: "ia5String" },
  { name: "jurisdictionC", oid: "1.3.6.1.4.1.311.60.2.1.3", kind: "printableString" },
  { name: "jurisdictionST", oid: "1.3.6.1.4.1.311.60.2.1.2", kind: "utf8String" },
  { name: "jurisdictionL", oid: "1.3.6.1.4.1.311.60.2.1.1", kind: "utf8String" },
];
const ALIASES: Record<string, string> = { E: "emailAddress", jurisdictionCountryName: "jurisdictionC" };

const byName = new Map(ATTRIBUTES.map((a) => [a.name.toLowerCase(), a]));
const byOid = new Map(ATTRIBUTES.map((a) => [a.oid, a]));
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function invalid(where: string, why: string, cause?: unknown): CertrotorError {
  return new CertrotorError("BAD_ARGUMENT", `${where}: ${why}`, { cause, details: { where } });
}

/** Splits on `separator` where it is not backslash-escaped. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "\\" && i + 1 < text.length) {
      current += char + text[i + 1];
      i++;
    } else if (char === separator) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts;
}

/** RFC 4514 §2.4 unescaping: "\," and friends, and "\c3\a3" hex pairs (UTF-8 bytes). */
function unescapeValue(value: string, where: string): string {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    const pair = value.slice(i + 1, i + 3);
    if (char !== "\\") out.push(...Buffer.from(char, "utf8"));
    else if (/^[0-9a-fA-F]{2}$/.test(pair)) {
      out.push(Number.parseInt(pair, 16));
      i += 2;
    } else {
      out.push(...Buffer.from(value[i + 1] ?? "", "utf8"));
      i++;
    }
  }
  try {
    return utf8.decode(Uint8Array.from(out));
  } catch (error) {
    throw invalid(where, "an escaped value is not UTF-8", error);
  }
}

function hexValue(type: string, hex: string, where: string): AttributeValue {
  const der = Buffer.from(hex, "hex");
  const bad = invalid(where, `the value of ${type} is not hex of one DER value`);
  if (der.length === 0 || der.toString("hex") !== hex.toLowerCase()) throw bad;
  const value = new AttributeValue({ anyValue: arrayBuffer(der) });
  try {
    // The library reads only the first TLV: a value with trailing bytes would be cut silently.
    if (!bytes(AsnConvert.serialize(value)).equals(der)) throw bad;
  } catch (error) {
    throw error === bad ? bad : invalid(where, `the value of ${type} is not hex of one DER value`, error);
  }
  return value;
}

function attribute(text: string, where: string): AttributeTypeAndValue {
  const eq = text.indexOf("=");
  if (eq <= 0) throw invalid(where, `"${text}" is not TYPE=value`);
  const type = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  const spec = byName.get((ALIASES[type] ?? type).toLowerCase());
  const oid = spec?.oid ?? (/^\d+(\.\d+)+$/.test(type) ? type : undefined);
  if (!oid) throw invalid(where, `unknown attribute type "${type}" (use a dotted OID)`);
  if (raw.startsWith("#"))
    return new AttributeTypeAndValue({ type: oid, value: hexValue(type, raw.slice(1), where) });
  const value = unescapeValue(raw, where);
  let kind: StringKind = spec?.kind ?? "utf8String";
  if (kind === "printableString" && !PRINTABLE.test(value)) kind = "utf8String";
  if (kind === "ia5String" && Buffer.byteLength(value) !== value.length) kind = "utf8String"; // IA5 is ASCII
  return new AttributeTypeAndValue({ type: oid, value: new AttributeValue({ [kind]: value }) });
}

/** The Name written as an RFC 4514 string. Throws BAD_ARGUMENT naming `where`. */
export function parseName(text: string, where = "subject"): AsnName {
  const rdns = splitUnescaped(text, ",").filter((part) => part.trim() !== "");
  if (rdns.length === 0) throw invalid(where, "empty distinguished name");
  const sets = rdns.map(
    (rdn) => new RelativeDistinguishedName(splitUnescaped(rdn, "+").map((atv) => attribute(atv, where))),
  );
  return new AsnName(sets.reverse());
}

/** DER of the Name written as an RFC 4514 string. Throws BAD_ARGUMENT naming `where`. */
export function encodeName(text: string, where = "subject"): Buffer {
  return bytes(AsnConvert.serialize(parseName(text, where)));
}

function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, "\\ ");
}

function stringOf(value: AttributeValue): string | undefined {
  const { printableString, utf8String, ia5String, teletexString, universalString, bmpString } = value;
  return printableString ?? utf8String ?? ia5String ?? teletexString ?? universalString ?? bmpString;
}

function formatAttribute(atv: AttributeTypeAndValue): string {
  const spec = byOid.get(atv.type);
  const text = stringOf(atv.value);
  if (spec && text !== undefined) return `${spec.name}=${escapeValue(text)}`;
  return `${spec?.name ?? atv.type}=#${bytes(AsnConvert.serialize(atv.value)).toString("hex")}`;
}

/** RFC 4514 text of a parsed Name. */
export function formatAsnName(name: AsnName): string {
  return [...name]
    .reverse()
    .map((rdn) => [...rdn].map(formatAttribute).join("+"))
    .join(",");
}

/** RFC 4514 text of a Name's DER. Throws BAD_ARGUMENT naming `where` when the DER is not a Name. */
export function formatName(nameDer: Buffer, where = "name"): string {
  let name: AsnName;
  try {
    name = AsnConvert.parse(nameDer, AsnName);
  } catch (error) {
    throw invalid(where, "the Name DER is malformed", error);
  }
  return formatAsnName(name);
}
