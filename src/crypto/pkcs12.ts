/**
 * PKCS#12 (RFC 7292) writing, one code path for RSA and EC keys, assembled at the DER level on native
 * crypto (node-forge's pkcs12 only takes RSA keys):
 * - the key as a pkcs8ShroudedKeyBag under PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC;
 * - leaf and chain certificates as certBags in an encryptedData safe under the same scheme (what
 *   OpenSSL 3 writes by default: subjects can carry personal data such as a CPF);
 * - friendlyName and localKeyId (SHA-1 of the leaf DER) on the key and leaf bags;
 * - an HMAC-SHA256 MAC keyed by the PKCS#12 KDF.
 * OpenSSL, Java keytool and Node's tls.createSecureContext read the result.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { explicit, implicitPrimitive, int, nullValue, octets, oid, seq, set, TAG, tlv } from "./der.js";
import { privateKeyObject } from "./keys.js";
import { assertKeyMatchesCertificate } from "./match.js";
import { pbes2Encrypt, pkcs12Kdf } from "./pbe.js";
import { certificateDer, certificatesDer } from "./pem.js";

/** OpenSSL's default (PKCS12_DEFAULT_ITER); the passphrases certrotor makes carry 192 random bits anyway. */
export const PFX_ITERATIONS = 2048;

export const P12 = {
  data: "1.2.840.113549.1.7.1",
  encryptedData: "1.2.840.113549.1.7.6",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  sha256: "2.16.840.1.101.3.4.2.1",
} as const;

export interface BuildPfxOptions {
  keyPem: string;
  certPem: string;
  /** Issuer chain, PEM, any number of certificates. */
  chainPem?: string;
  passphrase: string;
  /** Alias shown by keytool and Windows; defaults to "certrotor". */
  friendlyName?: string;
}

/** A URL-safe random passphrase: 24 random bytes (192 bits) as 32 base64url characters. */
export function randomPassphrase(): string {
  return randomBytes(24).toString("base64url");
}

function dataContentInfo(bytes: Buffer): Buffer {
  return seq(oid(P12.data), explicit(0, octets(bytes)));
}

function bagAttributes(friendlyName: string | undefined, localKeyId: Buffer): Buffer {
  const attributes = [seq(oid(P12.localKeyId), set(octets(localKeyId)))];
  if (friendlyName !== undefined) {
    const bmp = Buffer.from(friendlyName, "utf16le").swap16();
    attributes.unshift(seq(oid(P12.friendlyName), set(tlv(TAG.BMP_STRING, bmp))));
  }
  return set(...attributes);
}

function certBag(der: Buffer, attributes?: Buffer): Buffer {
  const value = seq(oid(P12.x509Certificate), explicit(0, octets(der)));
  return seq(oid(P12.certBag), explicit(0, value), ...(attributes ? [attributes] : []));
}

function encryptedDataContentInfo(plaintext: Buffer, passphrase: string): Buffer {
  const { algorithm, ciphertext } = pbes2Encrypt(plaintext, passphrase, PFX_ITERATIONS);
  const encryptedContentInfo = seq(oid(P12.data), algorithm, implicitPrimitive(0, ciphertext));
  return seq(oid(P12.encryptedData), explicit(0, seq(int(0), encryptedContentInfo)));
}

function macData(authSafe: Buffer, passphrase: string): Buffer {
  const salt = randomBytes(16);
  const digest = { hash: "sha256", size: 32, block: 64 };
  const key = pkcs12Kdf(passphrase, salt, 3, PFX_ITERATIONS, 32, digest);
  const mac = createHmac("sha256", key).update(authSafe).digest();
  return seq(seq(seq(oid(P12.sha256), nullValue()), octets(mac)), octets(salt), int(PFX_ITERATIONS));
}

/**
 * The PKCS#12 bytes for key + leaf (+ chain). Checks that the key belongs to the leaf (KEY_MISMATCH).
 * The passphrase must not be empty: an empty one gives no protection and tools disagree on its encoding.
 */
export function buildPfx(opts: BuildPfxOptions): Buffer {
  if (!opts.passphrase) throw new CertrotorError("BAD_ARGUMENT", "PFX build: the passphrase is empty");
  const key = privateKeyObject(opts.keyPem, "PFX key");
  assertKeyMatchesCertificate(opts.keyPem, opts.certPem, "PFX build");
  const leaf = certificateDer(opts.certPem, "PFX certificate");
  const chain = [...certificatesDer(opts.certPem, "PFX certificate").slice(1)];
  if (opts.chainPem?.trim()) chain.push(...certificatesDer(opts.chainPem, "PFX chain"));
  const friendlyName = opts.friendlyName ?? "certrotor";
  const localKeyId = createHash("sha1").update(leaf).digest();
  const attributes = bagAttributes(friendlyName, localKeyId);

  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const shrouded = pbes2Encrypt(pkcs8, opts.passphrase, PFX_ITERATIONS);
  const keyBag = seq(
    oid(P12.shroudedKeyBag),
    explicit(0, seq(shrouded.algorithm, octets(shrouded.ciphertext))),
    attributes,
  );
  const certSafe = seq(
    certBag(leaf, attributes),
    ...chain.filter((der) => !der.equals(leaf)).map((der) => certBag(der)),
  );
  const authSafe = seq(encryptedDataContentInfo(certSafe, opts.passphrase), dataContentInfo(seq(keyBag)));
  return seq(int(3), dataContentInfo(authSafe), macData(authSafe, opts.passphrase));
}
