/**
 * A minimal DER writer and reader. Certificates and CSRs are assembled from raw byte slices so that a
 * subject Name or a SAN extension copied from one structure lands in another byte for byte: no ASN.1
 * library in between re-encodes string types, reorders RDNs or normalises anything.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

// ---------------------------------------------------------------- writing

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with `tag` around the concatenated `parts`. */
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...parts: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...parts);
export const set = (...parts: Buffer[]): Buffer => tlv(TAG.SET, ...parts);
export const octets = (bytes: Buffer): Buffer => tlv(TAG.OCTET_STRING, bytes);
export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const bool = (value: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, value ? 0xff : 0]);
/** Context-specific constructed [n] (EXPLICIT tagging, or IMPLICIT of a constructed type). */
export const explicit = (n: number, ...parts: Buffer[]): Buffer => tlv(0xa0 | n, ...parts);
/** Context-specific primitive [n] (IMPLICIT of a primitive type, e.g. GeneralName dNSName [2]). */
export const implicitPrimitive = (n: number, bytes: Buffer): Buffer => tlv(0x80 | n, bytes);

/** BIT STRING with no unused bits. */
export const bitString = (bytes: Buffer): Buffer => tlv(TAG.BIT_STRING, Buffer.from([0]), bytes);

/** INTEGER from unsigned big-endian magnitude bytes (adds the 0x00 that keeps it positive). */
export function uintBytes(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const body = trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(TAG.INTEGER, body);
}

/** INTEGER of a small non-negative number (versions, path lengths, iteration counts). */
export function int(value: number): Buffer {
  const hex = value.toString(16);
  return uintBytes(Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex"));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map((arc) => BigInt(arc));
  if (arcs.length < 2) throw new Error(`bad OID ${dotted}`);
  const bytes: number[] = [];
  const encodeArc = (arc: bigint): void => {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...chunk);
  };
  encodeArc(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) encodeArc(arc);
  return tlv(TAG.OID, Buffer.from(bytes));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, "latin1"));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, "latin1"));
}

// ---------------------------------------------------------------- reading

export interface Node {
  tag: number;
  /** Offset of the tag byte in `buf`. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
  buf: Buffer;
}

export class DerError extends Error {
  override name = "DerError";
}

/** The TLV starting at `offset`. Throws DerError on truncation or indefinite length (not DER). */
export function readNode(buf: Buffer, offset = 0): Node {
  if (offset + 2 > buf.length) throw new DerError("truncated DER header");
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not used here");
  let length = buf[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError("unsupported DER length");
    if (contentStart + count > buf.length) throw new DerError("truncated DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > buf.length) throw new DerError("DER content runs past the end");
  return { tag, start: offset, contentStart, end, buf };
}

/** The whole buffer as exactly one TLV (no trailing bytes). */
export function readRoot(buf: Buffer): Node {
  const node = readNode(buf, 0);
  if (node.end !== buf.length) throw new DerError("trailing bytes after DER value");
  return node;
}

export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let offset = node.contentStart; offset < node.end; ) {
    const child = readNode(node.buf, offset);
    if (child.end > node.end) throw new DerError("DER child runs past its parent");
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** The full encoding (tag, length, content) of `node`. */
export const raw = (node: Node): Buffer => node.buf.subarray(node.start, node.end);
/** The content bytes of `node`. */
export const content = (node: Node): Buffer => node.buf.subarray(node.contentStart, node.end);

export function expectTag(node: Node | undefined, tag: number, what: string): Node {
  if (!node || node.tag !== tag) throw new DerError(`expected ${what}`);
  return node;
}

export function readOid(node: Node): string {
  const bytes = content(expectTag(node, TAG.OID, "an OID"));
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of bytes) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (arcs.length === 0) throw new DerError("empty OID");
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join(".");
}

export function readTime(node: Node): Date {
  const text = content(node).toString("latin1");
  const match =
    node.tag === TAG.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : node.tag === TAG.GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!match) throw new DerError("expected a UTCTime or GeneralizedTime in Zulu");
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const year = node.tag === TAG.UTC_TIME ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

/** Bytes of a BIT STRING's value (the unused-bits count byte removed). */
export function readBitString(node: Node): { bytes: Buffer; unusedBits: number } {
  const body = content(expectTag(node, TAG.BIT_STRING, "a BIT STRING"));
  if (body.length === 0) throw new DerError("empty BIT STRING");
  return { bytes: body.subarray(1), unusedBits: body[0]! };
}
