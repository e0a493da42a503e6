/**
 * The slice of ASN.1 that PKCS#12 needs, on Buffers: a BER reader (definite and indefinite lengths,
 * constructed OCTET STRINGs as Windows and Java write them) and a DER writer. Each node keeps views into
 * the input, never copies, so walking a PFX costs microseconds; the crypto is node:crypto's.
 *
 * Why not @peculiar/asn1-schema, as certificates use: the PFX schemas live in @peculiar/asn1-pfx, which is
 * not a dependency; EncryptedData and the PBES2/PBKDF2 parameters have no schema in any @peculiar package
 * and ours would need decorators (off in tsconfig); its OctetString drops BER's constructed chunks; and
 * its parse of one PFX took 0.6-2 ms, as much as the PBKDF2 runs. Bounds are checked on every read: any
 * input either parses or throws MalformedDer.
 */

/** Thrown when bytes are not the BER the caller expects; callers map it to their own error. */
export class MalformedDer extends Error {
  override name = "MalformedDer";
}

export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x10,
  SET: 0x11,
  BMP_STRING: 0x1e,
} as const;

export const CLASS = { UNIVERSAL: 0, CONTEXT: 2 } as const;

export interface Der {
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  cls: number;
  tag: number;
  constructed: boolean;
  /** The contents octets (for an indefinite length: up to, not including, the end-of-contents). */
  contents: Buffer;
  /** The whole encoding, identifier to end. */
  raw: Buffer;
}

// A PFX nests a handful of levels; the cap keeps a hostile file from exhausting the stack.
const MAX_DEPTH = 32;

function readLength(bytes: Buffer, at: number): { length: number | undefined; next: number } {
  const first = bytes[at];
  if (first === undefined) throw new MalformedDer("length is missing");
  if (first < 0x80) return { length: first, next: at + 1 };
  if (first === 0x80) return { length: undefined, next: at + 1 };
  const count = first & 0x7f;
  // 4 length bytes already describe 4 GiB: nothing larger is a PFX.
  if (count > 4 || at + 1 + count > bytes.length) throw new MalformedDer("length is out of range");
  let length = 0;
  for (let i = 1; i <= count; i++) length = length * 256 + bytes[at + i]!;
  return { length, next: at + 1 + count };
}

function readAt(bytes: Buffer, start: number, depth: number): Der {
  if (depth > MAX_DEPTH) throw new MalformedDer("nesting is too deep");
  const identifier = bytes[start];
  if (identifier === undefined) throw new MalformedDer("value is missing");
  const tag = identifier & 0x1f;
  if (tag === 0x1f) throw new MalformedDer("high tag numbers are not used by PKCS#12");
  const cls = identifier >> 6;
  const constructed = (identifier & 0x20) !== 0;
  const { length, next } = readLength(bytes, start + 1);
  if (length !== undefined) {
    const end = next + length;
    if (end > bytes.length) throw new MalformedDer("value runs past the end of its container");
    return { cls, tag, constructed, contents: bytes.subarray(next, end), raw: bytes.subarray(start, end) };
  }
  if (!constructed) throw new MalformedDer("a primitive value has an indefinite length");
  let at = next;
  for (;;) {
    if (at + 1 >= bytes.length) throw new MalformedDer("end-of-contents is missing");
    if (bytes[at] === 0 && bytes[at + 1] === 0) break;
    at += readAt(bytes, at, depth + 1).raw.length;
  }
  return { cls, tag, constructed, contents: bytes.subarray(next, at), raw: bytes.subarray(start, at + 2) };
}

/** The one value that fills `bytes`. */
export function decode(bytes: Buffer): Der {
  const node = readAt(bytes, 0, 0);
  if (node.raw.length !== bytes.length) throw new MalformedDer("bytes follow the value");
  return node;
}

/** The values inside a constructed value, in order. */
export function childrenOf(node: Der): Der[] {
  if (!node.constructed) throw new MalformedDer("value is not constructed");
  const found: Der[] = [];
  let at = 0;
  while (at < node.contents.length) {
    const child = readAt(node.contents, at, 1);
    found.push(child);
    at += child.raw.length;
  }
  return found;
}

/** An OCTET STRING's bytes; BER's constructed form (chunks) joined. */
export function octetsOf(node: Der, depth = 0): Buffer {
  if (!node.constructed) return node.contents;
  if (depth > MAX_DEPTH) throw new MalformedDer("nesting is too deep");
  return Buffer.concat(childrenOf(node).map((chunk) => octetsOf(chunk, depth + 1)));
}

/** Dotted form of an OBJECT IDENTIFIER's contents. */
export function oidOf(contents: Buffer): string {
  if (contents.length === 0 || contents[contents.length - 1]! & 0x80) throw new MalformedDer("bad OID");
  const arcs: number[] = [];
  let value = 0;
  for (const byte of contents) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new MalformedDer("OID arc is too large");
    if (byte & 0x80) continue;
    if (arcs.length === 0)
      arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
    else arcs.push(value);
    value = 0;
  }
  return arcs.join(".");
}

/** A non-negative INTEGER's contents as a number (PKCS#12 counts: versions, iterations, key lengths). */
export function smallIntOf(contents: Buffer): number {
  if (contents.length === 0 || contents.length > 6 || contents[0]! & 0x80) {
    throw new MalformedDer("INTEGER is negative or out of range");
  }
  return contents.readUIntBE(0, contents.length);
}

// ---------------------------------------------------------------- writing (DER)

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: `identifier` is the whole identifier octet (class, constructed bit, tag). */
export function tlv(identifier: number, contents: Buffer | readonly Buffer[]): Buffer {
  const body = Buffer.isBuffer(contents) ? contents : Buffer.concat(contents);
  return Buffer.concat([Buffer.of(identifier), lengthBytes(body.length), body]);
}

export const seq = (...values: Buffer[]): Buffer => tlv(0x30, values);
export const set = (...values: Buffer[]): Buffer => tlv(0x31, values);
export const octets = (bytes: Buffer): Buffer => tlv(TAG.OCTET_STRING, bytes);
export const nullValue = (): Buffer => Buffer.of(TAG.NULL, 0);
/** BMPString: UTF-16BE code units. */
export const bmp = (text: string): Buffer => tlv(TAG.BMP_STRING, Buffer.from(text, "utf16le").swap16());
/** [0] EXPLICIT, or [0] IMPLICIT of a constructed type. */
export const explicit0 = (...values: Buffer[]): Buffer => tlv(0xa0, values);
/** [0] IMPLICIT OCTET STRING (EncryptedContentInfo's encryptedContent). */
export const implicitOctets0 = (bytes: Buffer): Buffer => tlv(0x80, bytes);

export function int(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError("int() writes non-negative integers");
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}
