/**
 * PKCS#12's password-based crypto on node:crypto (OpenSSL): PBES2 (RFC 8018) encryption and decryption,
 * the PKCS#12 key derivation (RFC 7292 B.2) and the HMAC it keys for the MAC. The legacy PKCS#12 PBE
 * schemes (3DES, 40/128-bit RC2 with SHA-1) go to pkcs12-legacy.ts, which loads node-forge on first use:
 * OpenSSL 3 keeps RC2 in its legacy provider, which Node does not load.
 *
 * Passwords: PBES2 derives its key from the passphrase's UTF-8 bytes, the PKCS#12 KDF (MAC key, legacy
 * schemes) from its BMPString with a terminating NUL, as OpenSSL does.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hash,
  pbkdf2Sync,
  randomBytes,
} from "node:crypto";
import type { Der } from "./der.js";
import { int, nullValue, octets, oid, seq } from "./der.js";
import { legacyDecrypt } from "./pkcs12-legacy.js";
import {
  children,
  type DigestName,
  MalformedPfx,
  P12,
  readAlgorithm,
  readInt,
  readOctets,
  UnsupportedAlgorithm,
} from "./pkcs12-asn1.js";

const PRFS: Record<string, DigestName> = {
  "1.2.840.113549.2.7": "sha1",
  "1.2.840.113549.2.8": "sha224",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
};
const HMAC_WITH_SHA256 = "1.2.840.113549.2.9";
const CIPHERS: Record<string, { name: string; keySize: number; ivSize: number }> = {
  "2.16.840.1.101.3.4.1.2": { name: "aes-128-cbc", keySize: 16, ivSize: 16 },
  "2.16.840.1.101.3.4.1.22": { name: "aes-192-cbc", keySize: 24, ivSize: 16 },
  "2.16.840.1.101.3.4.1.42": { name: "aes-256-cbc", keySize: 32, ivSize: 16 },
  "1.2.840.113549.3.7": { name: "des-ede3-cbc", keySize: 24, ivSize: 8 },
};
const AES_256_CBC = "2.16.840.1.101.3.4.1.42";
/** Far above any tool's default (OpenSSL 2048, Windows 2000, Java 10000): a file asking more is hostile. */
const MAX_ITERATIONS = 10_000_000;

// crypto.hash (Node ≥ 20.12) skips the Hash object: the MAC key's 2048 chained digests take half the time.
const digestOnce: (name: DigestName, data: Buffer) => Buffer =
  typeof hash === "function"
    ? (name, data) => hash(name, data, "buffer")
    : (name, data) => createHash(name).update(data).digest();

/** A PBES2 key made from a passphrase: the PBKDF2 salt and the AES-256 key derived with it. */
export interface Pbes2Key {
  salt: Buffer;
  key: Buffer;
}

/** PBKDF2-HMAC-SHA256 of the passphrase's UTF-8 bytes with a fresh 16-byte salt, `iterations` rounds. */
export function pbes2Key(passphrase: string, iterations: number): Pbes2Key {
  const salt = randomBytes(16);
  return { salt, key: pbes2KeyWithSalt(passphrase, salt, iterations) };
}

/** The AES-256 key PBKDF2-HMAC-SHA256 derives from the passphrase's UTF-8 bytes and `salt`. */
export function pbes2KeyWithSalt(passphrase: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, iterations, 32, "sha256");
}

/**
 * PBES2: PBKDF2-HMAC-SHA256 → AES-256-CBC under `derived` (pbes2Key), a fresh 16-byte IV. Encrypts the DER
 * of any value, key or SafeContents; returns the AlgorithmIdentifier and the ciphertext.
 */
export function pbes2Encrypt(
  plain: Buffer,
  derived: Pbes2Key,
  iterations: number,
): { algorithm: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", derived.key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  const kdf = seq(
    oid(P12.pbkdf2),
    seq(octets(derived.salt), int(iterations), int(32), seq(oid(HMAC_WITH_SHA256), nullValue())),
  );
  const scheme = seq(oid(AES_256_CBC), octets(iv));
  return { algorithm: seq(oid(P12.pbes2), seq(kdf, scheme)), ciphertext };
}

function iterationsOf(node: Der | undefined, what: string): number {
  const iterations = readInt(node, what);
  if (iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new UnsupportedAlgorithm(`iteration count ${iterations} (1 to ${MAX_ITERATIONS} are read)`);
  }
  return iterations;
}

/** PBKDF2-params: salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1. */
function pbkdf2Key(params: Der | undefined, passphrase: string, keySize: number): Buffer {
  const [saltNode, countNode, ...rest] = children(params, "PBKDF2 parameters");
  const salt = readOctets(saltNode, "the PBKDF2 salt");
  const iterations = iterationsOf(countNode, "the PBKDF2 iteration count");
  let prf: DigestName = "sha1";
  for (const node of rest) {
    if (node.constructed) {
      const id = readAlgorithm(node, "the PBKDF2 PRF").oid;
      prf = PRFS[id] ?? unsupported(`PBKDF2 PRF ${id}`);
    } else if (readInt(node, "the PBKDF2 key length") !== keySize) {
      throw new MalformedPfx("the PBKDF2 key length does not fit the cipher");
    }
  }
  return pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, iterations, keySize, prf);
}

function unsupported(what: string): never {
  throw new UnsupportedAlgorithm(what);
}

function pbes2Decrypt(params: Der | undefined, ciphertext: Buffer, passphrase: string): Buffer | undefined {
  const [kdfNode, schemeNode] = children(params, "PBES2 parameters");
  const kdf = readAlgorithm(kdfNode, "the PBES2 key derivation");
  if (kdf.oid !== P12.pbkdf2) unsupported(`PBES2 key derivation ${kdf.oid}`);
  const scheme = readAlgorithm(schemeNode, "the PBES2 encryption scheme");
  const cipher = CIPHERS[scheme.oid] ?? unsupported(`PBES2 cipher ${scheme.oid}`);
  const iv = readOctets(scheme.params, "the PBES2 IV");
  if (iv.length !== cipher.ivSize) throw new MalformedPfx("the PBES2 IV has the wrong size");
  const key = pbkdf2Key(kdf.params, passphrase, cipher.keySize);
  const decipher = createDecipheriv(cipher.name, key, iv);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined; // bad padding: a wrong key, so a wrong passphrase
  }
}

/**
 * Decrypts `ciphertext` under the AlgorithmIdentifier `algorithm`: PBES2 (AES or 3DES) here, the PKCS#12
 * PBE schemes through pkcs12-legacy.ts. Returns undefined when the padding check fails, which once the
 * MAC passed (or is absent) means a wrong passphrase.
 */
export function pbeDecrypt(algorithm: Der, ciphertext: Buffer, passphrase: string): Buffer | undefined {
  const { oid: scheme, params } = readAlgorithm(algorithm, "an encryption AlgorithmIdentifier");
  if (scheme === P12.pbes2) return pbes2Decrypt(params, ciphertext, passphrase);
  if (scheme.startsWith(P12.pkcs12PbeArc) && params)
    return legacyDecrypt(scheme, params.raw, ciphertext, passphrase);
  return unsupported(`encryption scheme ${scheme}`);
}

/** `bytes` repeated to fill a multiple of `block` bytes (empty stays empty). */
function fill(bytes: Buffer, block: number): Buffer {
  const out = Buffer.alloc(block * Math.ceil(bytes.length / block));
  for (let i = 0; i < out.length; i++) out[i] = bytes[i % bytes.length]!;
  return out;
}

/** The passphrase as PKCS#12 wants it: UTF-16BE code units, then a 2-byte NUL (RFC 7292 B.1). */
export function bmpPassword(passphrase: string): Buffer {
  return Buffer.concat([Buffer.from(passphrase, "utf16le").swap16(), Buffer.alloc(2)]);
}

/** RFC 7292 B.2: `size` bytes of key material for purpose `id` (1 key, 2 IV, 3 MAC). */
export function pkcs12Kdf(
  password: Buffer,
  salt: Buffer,
  id: number,
  iterations: number,
  size: number,
  digest: { name: DigestName; size: number; block: number },
): Buffer {
  const v = digest.block;
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([fill(salt, v), fill(password, v)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < size; produced += digest.size) {
    let a = digestOnce(digest.name, Buffer.concat([d, i]));
    for (let round = 1; round < iterations; round++) a = digestOnce(digest.name, a);
    out.push(a);
    if (produced + digest.size >= size) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, B being A repeated to v bytes.
    const b = fill(a, v);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, size);
}

export type MacDigest = { name: DigestName; size: number; block: number };

/** The MAC key: the PKCS#12 KDF (id 3) from the passphrase's BMPString (RFC 7292 B.2 and B.4). */
export function pkcs12MacKey(
  passphrase: string,
  salt: Buffer,
  iterations: number,
  digest: MacDigest,
): Buffer {
  if (iterations < 1 || iterations > MAX_ITERATIONS) unsupported(`MAC iteration count ${iterations}`);
  return pkcs12Kdf(bmpPassword(passphrase), salt, 3, iterations, digest.size, digest);
}

/** HMAC of `data` keyed by the PKCS#12 KDF (id 3) from the passphrase's BMPString. */
export function pkcs12Mac(
  data: Buffer,
  passphrase: string,
  salt: Buffer,
  iterations: number,
  digest: MacDigest,
): Buffer {
  return macWithKey(data, pkcs12MacKey(passphrase, salt, iterations, digest), digest);
}

/** HMAC of `data` under a MAC key from pkcs12MacKey. */
export function macWithKey(data: Buffer, key: Buffer, digest: MacDigest): Buffer {
  return createHmac(digest.name, key).update(data).digest();
}
