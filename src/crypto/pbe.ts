/**
 * Password-based encryption and MAC keys for PKCS#12, on native OpenSSL primitives:
 * - PBES2 (RFC 8018) with PBKDF2, for writing (HMAC-SHA256, AES-256-CBC) and reading (HMAC-SHA1/2, AES-CBC, 3DES);
 * - the PKCS#12 key derivation (RFC 7292 appendix B) for the MAC key and for the legacy
 *   pbeWithSHAAnd3-KeyTripleDES-CBC / pbeWithSHAAnd40BitRC2-CBC schemes other tools still write.
 * RC2 is not in OpenSSL 3's default provider, so that one cipher comes from node-forge.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hash as nativeHash,
  pbkdf2Sync,
  randomBytes,
} from "node:crypto";
import forge from "node-forge";
import {
  children,
  content,
  DerError,
  expectTag,
  int,
  nullValue,
  octets,
  oid,
  readOid,
  readRoot,
  seq,
  TAG,
} from "./der.js";

export const OID = {
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  aes256cbc: "2.16.840.1.101.3.4.1.42",
  hmacWithSha256: "1.2.840.113549.2.9",
  pbeSha3Des: "1.2.840.113549.1.12.1.3",
  pbeSha128Rc2: "1.2.840.113549.1.12.1.5",
  pbeSha40Rc2: "1.2.840.113549.1.12.1.6",
} as const;

const PRF_HASH: Record<string, string> = {
  "1.2.840.113549.2.7": "sha1",
  "1.2.840.113549.2.8": "sha224",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
};
const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  "2.16.840.1.101.3.4.1.2": { name: "aes-128-cbc", keyLength: 16 },
  "2.16.840.1.101.3.4.1.22": { name: "aes-192-cbc", keyLength: 24 },
  "2.16.840.1.101.3.4.1.42": { name: "aes-256-cbc", keyLength: 32 },
  "1.2.840.113549.3.7": { name: "des-ede3-cbc", keyLength: 24 },
};
export const DIGESTS: Record<string, { hash: string; size: number; block: number }> = {
  "1.3.14.3.2.26": { hash: "sha1", size: 20, block: 64 },
  "2.16.840.1.101.3.4.2.1": { hash: "sha256", size: 32, block: 64 },
  "2.16.840.1.101.3.4.2.2": { hash: "sha384", size: 48, block: 128 },
  "2.16.840.1.101.3.4.2.3": { hash: "sha512", size: 64, block: 128 },
};

/** Thrown for an algorithm certrotor does not read; the caller maps it to PFX_MALFORMED. */
export class UnsupportedAlgorithm extends Error {
  override name = "UnsupportedAlgorithm";
}

/** The password as PKCS#12 wants it for its own KDF: BMPString (UTF-16BE) with a two-byte terminator. */
function bmpPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, "utf16le").swap16(), Buffer.alloc(2)]);
}

function repeatTo(bytes: Buffer, blockSize: number): Buffer {
  if (bytes.length === 0) return bytes;
  const out = Buffer.alloc(blockSize * Math.ceil(bytes.length / blockSize));
  for (let i = 0; i < out.length; i++) out[i] = bytes[i % bytes.length]!;
  return out;
}

// One-shot crypto.hash (Node ≥ 20.12) halves the per-call cost of this 2048-round loop; createHash otherwise.
const hashOnce: (algorithm: string, data: Buffer) => Buffer =
  typeof nativeHash === "function"
    ? (algorithm, data) => nativeHash(algorithm, data, "buffer")
    : (algorithm, data) => createHash(algorithm).update(data).digest();

/** RFC 7292 B.2: `id` 1 = cipher key, 2 = IV, 3 = MAC key. */
export function pkcs12Kdf(
  password: string,
  salt: Buffer,
  id: 1 | 2 | 3,
  iterations: number,
  length: number,
  digest: { hash: string; size: number; block: number },
): Buffer {
  const v = digest.block;
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([repeatTo(salt, v), repeatTo(bmpPassword(password), v)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += digest.size) {
    let a: Buffer = createHash(digest.hash).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = hashOnce(digest.hash, a);
    out.push(a);
    const b = repeatTo(a, v);
    for (let offset = 0; offset < i.length; offset += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[offset + k]! + b[k]! + carry;
        i[offset + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}

export interface Pbes2Result {
  algorithm: Buffer;
  ciphertext: Buffer;
}

/** PBES2: PBKDF2-HMAC-SHA256 → AES-256-CBC, random 16-byte salt and IV. The password is used as UTF-8. */
export function pbes2Encrypt(plaintext: Buffer, password: string, iterations: number): Pbes2Result {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const algorithm = seq(
    oid(OID.pbes2),
    seq(
      seq(oid(OID.pbkdf2), seq(octets(salt), int(iterations), seq(oid(OID.hmacWithSha256), nullValue()))),
      seq(oid(OID.aes256cbc), octets(iv)),
    ),
  );
  return { algorithm, ciphertext };
}

function pbes2Decrypt(params: Buffer, ciphertext: Buffer, password: string): Buffer {
  const [kdf, scheme] = children(readRoot(params));
  const [kdfOid, kdfParams] = children(kdf!);
  if (readOid(kdfOid!) !== OID.pbkdf2)
    throw new UnsupportedAlgorithm("PBES2 key derivation other than PBKDF2");
  const kdfFields = children(kdfParams!);
  const salt = content(expectTag(kdfFields[0], TAG.OCTET_STRING, "a PBKDF2 salt"));
  const iterations = Number.parseInt(
    content(expectTag(kdfFields[1], TAG.INTEGER, "a PBKDF2 count")).toString("hex"),
    16,
  );
  const prfNode = kdfFields.slice(2).find((node) => node.tag === TAG.SEQUENCE);
  const prf = prfNode ? PRF_HASH[readOid(children(prfNode)[0]!)] : "sha1";
  const [cipherOid, ivNode] = children(scheme!);
  const cipher = CIPHERS[readOid(cipherOid!)];
  if (!prf || !cipher) throw new UnsupportedAlgorithm("PBES2 PRF or cipher");
  const key = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, cipher.keyLength, prf);
  const decipher = createDecipheriv(cipher.name, key, content(expectTag(ivNode, TAG.OCTET_STRING, "an IV")));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function pkcs12PbeDecrypt(dotted: string, params: Buffer, ciphertext: Buffer, password: string): Buffer {
  const [saltNode, countNode] = children(readRoot(params));
  const salt = content(expectTag(saltNode, TAG.OCTET_STRING, "a PBE salt"));
  const iterations = Number.parseInt(
    content(expectTag(countNode, TAG.INTEGER, "a PBE count")).toString("hex"),
    16,
  );
  const sha1 = DIGESTS["1.3.14.3.2.26"]!;
  const keyLength = dotted === OID.pbeSha3Des ? 24 : dotted === OID.pbeSha128Rc2 ? 16 : 5;
  const key = pkcs12Kdf(password, salt, 1, iterations, keyLength, sha1);
  const iv = pkcs12Kdf(password, salt, 2, iterations, 8, sha1);
  if (dotted === OID.pbeSha3Des) {
    const decipher = createDecipheriv("des-ede3-cbc", key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  }
  const rc2 = forge.rc2.createDecryptionCipher(
    forge.util.createBuffer(key.toString("binary")),
    keyLength * 8,
  );
  rc2.start(forge.util.createBuffer(iv.toString("binary")));
  rc2.update(forge.util.createBuffer(ciphertext.toString("binary")));
  if (!rc2.finish()) throw new Error("bad decrypt");
  return Buffer.from(rc2.output.getBytes(), "binary");
}

/**
 * Decrypts `ciphertext` under the AlgorithmIdentifier `algorithmDer`. A wrong password usually shows as a
 * padding error thrown by the cipher (the caller maps it); unknown schemes throw UnsupportedAlgorithm.
 */
export function pbeDecrypt(algorithmDer: Buffer, ciphertext: Buffer, password: string): Buffer {
  const [oidNode, paramsNode] = children(readRoot(algorithmDer));
  const dotted = readOid(oidNode!);
  if (!paramsNode) throw new DerError("PBE parameters missing");
  const params = paramsNode.buf.subarray(paramsNode.start, paramsNode.end);
  if (dotted === OID.pbes2) return pbes2Decrypt(params, ciphertext, password);
  if (dotted === OID.pbeSha3Des || dotted === OID.pbeSha128Rc2 || dotted === OID.pbeSha40Rc2) {
    return pkcs12PbeDecrypt(dotted, params, ciphertext, password);
  }
  throw new UnsupportedAlgorithm(`encryption scheme ${dotted}`);
}
