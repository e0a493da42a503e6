/**
 * The PKCS#12 (RFC 7292) vocabulary shared by writing (pkcs12.ts) and reading (pkcs12-read.ts): the OIDs,
 * the two internal errors the reader maps to PFX_MALFORMED, and checked accessors over der.ts's nodes that
 * say which part of the file is wrong.
 */
import { childrenOf, type Der, MalformedDer, octetsOf, oidOf, smallIntOf, TAG } from "./der.js";

export const P12 = {
  data: "1.2.840.113549.1.7.1",
  encryptedData: "1.2.840.113549.1.7.6",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  /** The legacy PKCS#12 PBE schemes (3DES, RC2, RC4 with SHA-1) share this arc (RFC 7292 appendix C). */
  pkcs12PbeArc: "1.2.840.113549.1.12.1.",
} as const;

export type DigestName = "sha1" | "sha224" | "sha256" | "sha384" | "sha512";

/** MAC digests certrotor reads (by AlgorithmIdentifier OID); it writes SHA-256. */
export const MAC_DIGESTS: Record<string, { name: DigestName; size: number; block: number }> = {
  "1.3.14.3.2.26": { name: "sha1", size: 20, block: 64 },
  "2.16.840.1.101.3.4.2.4": { name: "sha224", size: 28, block: 64 },
  "2.16.840.1.101.3.4.2.1": { name: "sha256", size: 32, block: 64 },
  "2.16.840.1.101.3.4.2.2": { name: "sha384", size: 48, block: 128 },
  "2.16.840.1.101.3.4.2.3": { name: "sha512", size: 64, block: 128 },
};
export const SHA256_OID = "2.16.840.1.101.3.4.2.1";

/** Thrown for an algorithm or mode certrotor does not read; the reader maps it to PFX_MALFORMED. */
export class UnsupportedAlgorithm extends Error {
  override name = "UnsupportedAlgorithm";
}

/** Thrown when the bytes do not have the PKCS#12 structure; the reader maps it to PFX_MALFORMED. */
export class MalformedPfx extends Error {
  override name = "MalformedPfx";
}

/** Runs a der.ts read, naming the part of the PFX when the bytes are not BER. */
function named<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof MalformedDer) throw new MalformedPfx(`${what}: ${error.message}`, { cause: error });
    throw error;
  }
}

export function children(node: Der | undefined, what: string): Der[] {
  if (!node?.constructed) throw new MalformedPfx(`${what} is not a constructed value`);
  return named(what, () => childrenOf(node));
}

export function child(node: Der | undefined, index: number, what: string): Der {
  const found = children(node, what)[index];
  if (!found) throw new MalformedPfx(`${what} is incomplete`);
  return found;
}

function universal(node: Der | undefined, tag: number, what: string, kind: string): Der {
  if (node?.cls !== 0 || node.tag !== tag) throw new MalformedPfx(`${what} is not ${kind}`);
  return node;
}

export function readOid(node: Der | undefined, what: string): string {
  const found = universal(node, TAG.OID, what, "an OID");
  return named(what, () => oidOf(found.contents));
}

export function readInt(node: Der | undefined, what: string): number {
  const found = universal(node, TAG.INTEGER, what, "an INTEGER");
  return named(what, () => smallIntOf(found.contents));
}

/** An OCTET STRING's bytes (or an [n] IMPLICIT one's), BER's constructed chunks (Windows writes them) joined. */
export function readOctets(node: Der | undefined, what: string): Buffer {
  if (!node) throw new MalformedPfx(`${what} is missing`);
  if (node.cls === 0 && node.tag !== TAG.OCTET_STRING)
    throw new MalformedPfx(`${what} is not an OCTET STRING`);
  return named(what, () => octetsOf(node));
}

/** The AlgorithmIdentifier's OID and its parameters (undefined when absent). */
export function readAlgorithm(node: Der | undefined, what: string): { oid: string; params: Der | undefined } {
  const parts = children(node, what);
  return { oid: readOid(parts[0], what), params: parts[1] };
}
