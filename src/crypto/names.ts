/**
 * Distinguished names as RFC 4514 strings ("CN=Acme Issuing CA,O=Acme,C=BR": the most specific RDN
 * first, so the DER order is the reverse of the text). Parsing builds a Name's DER; formatting turns any
 * Name DER back into text, with unknown attribute types as dotted OIDs and their DER value in hex
 * ("2.16.76.1.3.3=#0c0e3132...") as RFC 4514 §2.4 prescribes, so nothing is lost.
 */
import { CertrotorError } from "../errors.js";
import { children, content, DerError, oid, raw, readOid, readRoot, set, seq, TAG, tlv } from "./der.js";

interface AttributeSpec {
  name: string;
  oid: string;
  tag: number;
}

const ATTRIBUTES: AttributeSpec[] = [
  { name: "CN", oid: "2.5.4.3", tag: TAG.UTF8_STRING },
  { name: "SN", oid: "2.5.4.4", tag: TAG.UTF8_STRING },
  { name: "serialNumber", oid: "2.5.4.5", tag: TAG.PRINTABLE_STRING },
  { name: "C", oid: "2.5.4.6", tag: TAG.PRINTABLE_STRING },
  { name: "L", oid: "2.5.4.7", tag: TAG.UTF8_STRING },
  { name: "ST", oid: "2.5.4.8", tag: TAG.UTF8_STRING },
  { name: "STREET", oid: "2.5.4.9", tag: TAG.UTF8_STRING },
  { name: "O", oid: "2.5.4.10", tag: TAG.UTF8_STRING },
  { name: "OU", oid: "2.5.4.11", tag: TAG.UTF8_STRING },
  { name: "title", oid: "2.5.4.12", tag: TAG.UTF8_STRING },
  { name: "businessCategory", oid: "2.5.4.15", tag: TAG.UTF8_STRING },
  { name: "postalCode", oid: "2.5.4.17", tag: TAG.UTF8_STRING },
  { name: "GN", oid: "2.5.4.42", tag: TAG.UTF8_STRING },
  { name: "dnQualifier", oid: "2.5.4.46", tag: TAG.PRINTABLE_STRING },
  { name: "organizationIdentifier", oid: "2.5.4.97", tag: TAG.UTF8_STRING },
  { name: "UID", oid: "0.9.2342.19200300.100.1.1", tag: TAG.UTF8_STRING },
  { name: "DC", oid: "0.9.2342.19200300.100.1.25", tag: TAG.IA5_STRING },
  { name: "emailAddress", oid: "1.2.840.113549.1.9.1", tag: TAG.IA5_STRING },
  { name: "jurisdictionC", oid: "1.3.6.1.4.1.311.60.2.1.3", tag: TAG.PRINTABLE_STRING },
  { name: "jurisdictionST", oid: "1.3.6.1.4.1.311.60.2.1.2", tag: TAG.UTF8_STRING },
  { name: "jurisdictionL", oid: "1.3.6.1.4.1.311.60.2.1.1", tag: TAG.UTF8_STRING },
];
const ALIASES: Record<string, string> = { E: "emailAddress", jurisdictionCountryName: "jurisdictionC" };

const byName = new Map(ATTRIBUTES.map((a) => [a.name.toLowerCase(), a]));
const byOid = new Map(ATTRIBUTES.map((a) => [a.oid, a]));
const STRING_TAGS = new Set<number>([TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.IA5_STRING, 0x14, 0x1c]);

function invalid(where: string, why: string): CertrotorError {
  return new CertrotorError("BAD_ARGUMENT", `${where}: ${why}`, { details: { where } });
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

function unescapeValue(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char !== "\\") {
      bytes.push(...Buffer.from(char, "utf8"));
      continue;
    }
    const pair = value.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(pair)) {
      bytes.push(Number.parseInt(pair, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i + 1] ?? "", "utf8"));
      i++;
    }
  }
  return Buffer.from(bytes);
}

function encodeAttribute(text: string, where: string): Buffer {
  const eq = text.indexOf("=");
  if (eq <= 0) throw invalid(where, `"${text}" is not TYPE=value`);
  const type = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  const spec = byName.get((ALIASES[type] ?? type).toLowerCase());
  const dotted = spec?.oid ?? (/^\d+(\.\d+)+$/.test(type) ? type : undefined);
  if (!dotted) throw invalid(where, `unknown attribute type "${type}" (use a dotted OID)`);
  if (value.startsWith("#")) {
    const der = Buffer.from(value.slice(1), "hex");
    try {
      readRoot(der);
    } catch {
      throw invalid(where, `the value of ${type} is not hex of one DER value`);
    }
    return seq(oid(dotted), der);
  }
  const bytes = unescapeValue(value);
  const tag = spec?.tag ?? TAG.UTF8_STRING;
  if (tag === TAG.PRINTABLE_STRING && !/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(bytes.toString("utf8"))) {
    return seq(oid(dotted), tlv(TAG.UTF8_STRING, bytes));
  }
  return seq(oid(dotted), tlv(tag, bytes));
}

/** DER of the Name written as an RFC 4514 string. Throws BAD_ARGUMENT naming `where`. */
export function encodeName(text: string, where = "subject"): Buffer {
  const rdns = splitUnescaped(text, ",").filter((part) => part.trim() !== "");
  if (rdns.length === 0) throw invalid(where, "empty distinguished name");
  const sets = rdns.map((rdn) => set(...splitUnescaped(rdn, "+").map((atv) => encodeAttribute(atv, where))));
  return seq(...sets.reverse());
}

function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, "\\ ");
}

/** RFC 4514 text of a Name's DER. Throws DerError on malformed input. */
export function formatName(nameDer: Buffer): string {
  const rdns = children(readRoot(nameDer)).map((rdn) => {
    if (rdn.tag !== TAG.SET) throw new DerError("RDN is not a SET");
    return children(rdn)
      .map((atv) => {
        const [type, value] = children(atv);
        if (!type || !value) throw new DerError("AttributeTypeAndValue is incomplete");
        const dotted = readOid(type);
        const spec = byOid.get(dotted);
        if (spec && STRING_TAGS.has(value.tag))
          return `${spec.name}=${escapeValue(content(value).toString("utf8"))}`;
        if (spec && value.tag === TAG.BMP_STRING)
          return `${spec.name}=${escapeValue(Buffer.from(content(value)).swap16().toString("utf16le"))}`;
        return `${spec?.name ?? dotted}=#${raw(value).toString("hex")}`;
      })
      .join("+");
  });
  return rdns.reverse().join(",");
}
