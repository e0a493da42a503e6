/**
 * The PKCS#12 (RFC 7292) pieces: node-forge's ASN.1 model, PBES2 encryption on node:crypto, forge's
 * decryption (PBES2 and the legacy PKCS#12 PBE schemes, for reading), and forge's PKCS#12 key derivation
 * and HMAC for the MAC. Shared by writing (pkcs12.ts) and reading (pkcs12-read.ts); node-forge's types
 * stay in these three files.
 *
 * Passwords: PBES2 derives its key from the passphrase's UTF-8 bytes, the PKCS#12 KDF (MAC key, legacy
 * 3DES/RC2 schemes) from its BMPString, as OpenSSL does. node-forge takes one string for both and would
 * use Latin-1 for PBES2, so each call here is given the encoding its scheme needs; that is also why the
 * bags are walked here rather than by forge.pkcs12.pkcs12FromAsn1.
 */
import { createCipheriv, pbkdf2Sync, randomBytes } from "node:crypto";
import forge from "node-forge";

const { asn1, pki } = forge;
export type Asn1 = forge.asn1.Asn1;

export const P12 = {
  data: pki.oids.data!,
  encryptedData: pki.oids.encryptedData!,
  keyBag: pki.oids.keyBag!,
  shroudedKeyBag: pki.oids.pkcs8ShroudedKeyBag!,
  certBag: pki.oids.certBag!,
  x509Certificate: pki.oids.x509Certificate!,
  friendlyName: pki.oids.friendlyName!,
  localKeyId: pki.oids.localKeyId!,
  pbes2: pki.oids.pkcs5PBES2!,
} as const;

/** MAC digests certrotor reads; it writes SHA-256. */
export const MAC_DIGESTS: Record<string, { name: "sha1" | "sha256" | "sha384" | "sha512"; size: number }> = {
  [pki.oids.sha1!]: { name: "sha1", size: 20 },
  [pki.oids.sha256!]: { name: "sha256", size: 32 },
  [pki.oids.sha384!]: { name: "sha384", size: 48 },
  [pki.oids.sha512!]: { name: "sha512", size: 64 },
};

/** Thrown for an algorithm or mode certrotor does not read; the reader maps it to PFX_MALFORMED. */
export class UnsupportedAlgorithm extends Error {
  override name = "UnsupportedAlgorithm";
}

/** Thrown when the bytes do not have the PKCS#12 structure; the reader maps it to PFX_MALFORMED. */
export class MalformedPfx extends Error {
  override name = "MalformedPfx";
}

// ---------------------------------------------------------------- building

const { UNIVERSAL, CONTEXT_SPECIFIC } = asn1.Class;
export const seq = (...values: Asn1[]): Asn1 => asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, values);
export const set = (...values: Asn1[]): Asn1 => asn1.create(UNIVERSAL, asn1.Type.SET, true, values);
export const oid = (dotted: string): Asn1 =>
  asn1.create(UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
export const int = (value: number): Asn1 =>
  asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes());
export const octets = (binary: string): Asn1 => asn1.create(UNIVERSAL, asn1.Type.OCTETSTRING, false, binary);
export const nullValue = (): Asn1 => asn1.create(UNIVERSAL, asn1.Type.NULL, false, "");
/** forge writes a BMPSTRING's JS string as UTF-16BE. */
export const bmp = (text: string): Asn1 => asn1.create(UNIVERSAL, asn1.Type.BMPSTRING, false, text);
/** [0] EXPLICIT, or [0] IMPLICIT of a constructed type. */
export const explicit0 = (...values: Asn1[]): Asn1 => asn1.create(CONTEXT_SPECIFIC, 0, true, values);
/** [0] IMPLICIT OCTET STRING (EncryptedContentInfo's encryptedContent). */
export const implicitOctets0 = (binary: string): Asn1 => asn1.create(CONTEXT_SPECIFIC, 0, false, binary);

export const toBinary = (node: Asn1): string => asn1.toDer(node).getBytes();
export const fromBuffer = (bytes: Buffer): Asn1 =>
  asn1.fromDer(forge.util.createBuffer(bytes.toString("binary")));
export const randomBinary = (size: number): string => forge.random.getBytesSync(size);

// ---------------------------------------------------------------- reading

export function children(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new MalformedPfx(`${what} is not a constructed value`);
  return node.value;
}

export function child(node: Asn1 | undefined, index: number, what: string): Asn1 {
  const found = children(node, what)[index];
  if (!found) throw new MalformedPfx(`${what} is incomplete`);
  return found;
}

export function readOid(node: Asn1 | undefined, what: string): string {
  if (!node || node.type !== asn1.Type.OID || typeof node.value !== "string") {
    throw new MalformedPfx(`${what} is not an OID`);
  }
  return asn1.derToOid(node.value);
}

export function readInt(node: Asn1 | undefined, what: string): number {
  if (!node || node.type !== asn1.Type.INTEGER || typeof node.value !== "string") {
    throw new MalformedPfx(`${what} is not an INTEGER`);
  }
  return asn1.derToInteger(node.value);
}

/** An OCTET STRING's bytes (binary string), BER's constructed chunks (Windows writes them) joined. */
export function readOctets(node: Asn1 | undefined, what: string): string {
  if (!node) throw new MalformedPfx(`${what} is missing`);
  if (typeof node.value === "string") return node.value;
  return node.value.map((chunk) => readOctets(chunk, what)).join("");
}

// ---------------------------------------------------------------- crypto

function passwordFor(scheme: string, passphrase: string): string {
  return scheme === P12.pbes2 ? forge.util.encodeUtf8(passphrase) : passphrase;
}

const PBES2_PARTS = {
  pbkdf2: pki.oids.pkcs5PBKDF2!,
  hmacWithSha256: pki.oids.hmacWithSHA256!,
  aes256Cbc: pki.oids["aes256-CBC"]!,
} as const;

const binary = (bytes: Buffer): string => bytes.toString("binary");

/**
 * PBES2 (RFC 8018): PBKDF2-HMAC-SHA256 → AES-256-CBC, 16-byte salt and IV, `iterations` rounds, run by
 * OpenSSL (node:crypto). forge's encryptPrivateKeyInfo writes the same structure, but with a digest
 * other than SHA-1 it runs PBKDF2 and AES in JavaScript: 11.4 ms a call against ≈ 1 ms here, twice per
 * PFX. Encrypts the DER of any ASN.1 value, key or SafeContents. Returns the EncryptedPrivateKeyInfo
 * shape: SEQUENCE { AlgorithmIdentifier, OCTET STRING }.
 */
export function pbes2Encrypt(value: Asn1, passphrase: string, iterations: number): Asn1 {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, iterations, 32, "sha256");
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  const plain = Buffer.from(toBinary(value), "binary");
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  const kdf = seq(
    oid(PBES2_PARTS.pbkdf2),
    seq(octets(binary(salt)), int(iterations), int(32), seq(oid(PBES2_PARTS.hmacWithSha256), nullValue())),
  );
  const scheme = seq(oid(PBES2_PARTS.aes256Cbc), octets(binary(iv)));
  return seq(seq(oid(P12.pbes2), seq(kdf, scheme)), octets(binary(ciphertext)));
}

interface ForgeCipher {
  update(data: forge.util.ByteStringBuffer): void;
  finish(): boolean;
  output: forge.util.ByteStringBuffer;
}
// forge.pki.pbe is public API that @types/node-forge does not declare.
const pbe = (
  pki as unknown as { pbe: { getCipher(oid: string, params: Asn1, password: string): ForgeCipher } }
).pbe;

/**
 * Decrypts `ciphertext` (binary) under the AlgorithmIdentifier `algorithm` through forge's pbe: PBES2
 * (AES or 3DES) and PKCS#12 PBE (3DES, 40-bit RC2). Returns undefined when the padding check fails,
 * which once the MAC passed (or is absent) means a wrong passphrase.
 */
export function pbeDecrypt(algorithm: Asn1, ciphertext: string, passphrase: string): string | undefined {
  const scheme = readOid(child(algorithm, 0, "an encryption AlgorithmIdentifier"), "an encryption scheme");
  let cipher: ForgeCipher;
  try {
    cipher = pbe.getCipher(
      scheme,
      child(algorithm, 1, "encryption parameters"),
      passwordFor(scheme, passphrase),
    );
  } catch (error) {
    throw new UnsupportedAlgorithm(`encryption scheme ${scheme}`, { cause: error });
  }
  cipher.update(forge.util.createBuffer(ciphertext));
  return cipher.finish() ? cipher.output.getBytes() : undefined;
}

/** HMAC of `data` keyed by the PKCS#12 KDF (RFC 7292 B.2, id 3) from the passphrase's BMPString. */
export function pkcs12Mac(
  data: string,
  passphrase: string,
  salt: string,
  iterations: number,
  digest: { name: "sha1" | "sha256" | "sha384" | "sha512"; size: number },
): string {
  const saltBuffer = forge.util.createBuffer(salt);
  const key = forge.pkcs12.generateKey(
    passphrase,
    saltBuffer,
    3,
    iterations,
    digest.size,
    forge.md[digest.name].create(),
  );
  const hmac = forge.hmac.create();
  hmac.start(forge.md[digest.name].create(), key);
  hmac.update(data);
  return hmac.digest().getBytes();
}
