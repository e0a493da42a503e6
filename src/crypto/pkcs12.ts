/**
 * PKCS#12 (RFC 7292) writing with node-forge, one code path for RSA and EC keys. forge.pkcs12's own
 * builder only takes forge's RSA key and certificate objects ("OID is not RSA" otherwise), so the PFX is
 * assembled at forge's ASN.1 level from the PKCS#8 key and the certificates' DER:
 * - the key as a pkcs8ShroudedKeyBag under PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC (run by node:crypto);
 * - leaf and chain certificates as certBags in an encryptedData safe under the same scheme (what
 *   OpenSSL 3 writes by default: subjects can carry personal data such as a CPF);
 * - friendlyName and localKeyId (SHA-1 of the leaf DER) on the key and leaf bags;
 * - an HMAC-SHA256 MAC keyed by the PKCS#12 KDF.
 * Never RC2 or 3DES. OpenSSL, Java keytool and Node's tls.createSecureContext read the result.
 */
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { privateKeyObject } from "./keys.js";
import { assertKeyMatchesCertificate } from "./match.js";
import { certificateDer, certificatesDer } from "./pem.js";
import {
  type Asn1,
  bmp,
  explicit0,
  fromBuffer,
  implicitOctets0,
  int,
  MAC_DIGESTS,
  nullValue,
  octets,
  oid,
  P12,
  pbes2Encrypt,
  pkcs12Mac,
  randomBinary,
  seq,
  set,
  toBinary,
} from "./pkcs12-asn1.js";

/** OpenSSL's default (PKCS12_DEFAULT_ITER); the passphrases certrotor makes carry 192 random bits anyway. */
const PFX_ITERATIONS = 2048;
const SHA256 = "2.16.840.1.101.3.4.2.1";

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

function bagAttributes(friendlyName: string, localKeyId: Buffer): Asn1 {
  return set(
    seq(oid(P12.friendlyName), set(bmp(friendlyName))),
    seq(oid(P12.localKeyId), set(octets(localKeyId.toString("binary")))),
  );
}

function certBag(der: Buffer, attributes?: Asn1): Asn1 {
  const value = seq(oid(P12.x509Certificate), explicit0(octets(der.toString("binary"))));
  return seq(oid(P12.certBag), explicit0(value), ...(attributes ? [attributes] : []));
}

function dataContentInfo(content: Asn1): Asn1 {
  return seq(oid(P12.data), explicit0(octets(toBinary(content))));
}

function encryptedDataContentInfo(content: Asn1, passphrase: string): Asn1 {
  const [algorithm, ciphertext] = pbes2Encrypt(content, passphrase, PFX_ITERATIONS).value as Asn1[];
  const encryptedContentInfo = seq(oid(P12.data), algorithm!, implicitOctets0(ciphertext!.value as string));
  return seq(oid(P12.encryptedData), explicit0(seq(int(0), encryptedContentInfo)));
}

function macData(authSafe: string, passphrase: string): Asn1 {
  const salt = randomBinary(16);
  const mac = pkcs12Mac(authSafe, passphrase, salt, PFX_ITERATIONS, MAC_DIGESTS[SHA256]!);
  return seq(seq(seq(oid(SHA256), nullValue()), octets(mac)), octets(salt), int(PFX_ITERATIONS));
}

/** Leaf DER and the distinct chain certificates' DER, each checked to be a certificate (PEM_MALFORMED). */
function certificates(opts: BuildPfxOptions): { leaf: Buffer; chain: Buffer[] } {
  const leaf = certificateDer(opts.certPem, "PFX certificate");
  const chain = [...certificatesDer(opts.certPem, "PFX certificate").slice(1)];
  if (opts.chainPem?.trim()) chain.push(...certificatesDer(opts.chainPem, "PFX chain"));
  for (const der of chain) {
    try {
      new X509Certificate(der);
    } catch (error) {
      throw new CertrotorError("PEM_MALFORMED", "PFX chain: a certificate cannot be parsed as X.509", {
        cause: error,
      });
    }
  }
  return { leaf, chain: chain.filter((der) => !der.equals(leaf)) };
}

/**
 * The PKCS#12 bytes for key + leaf (+ chain). Checks that the key belongs to the leaf (KEY_MISMATCH).
 * The passphrase must not be empty: an empty one gives no protection and tools disagree on its encoding.
 */
export function buildPfx(opts: BuildPfxOptions): Buffer {
  if (!opts.passphrase) throw new CertrotorError("BAD_ARGUMENT", "PFX build: the passphrase is empty");
  const key = privateKeyObject(opts.keyPem, "PFX key");
  assertKeyMatchesCertificate(opts.keyPem, opts.certPem, "PFX build");
  const { leaf, chain } = certificates(opts);
  const attributes = bagAttributes(
    opts.friendlyName ?? "certrotor",
    createHash("sha1").update(leaf).digest(),
  );

  const pkcs8 = fromBuffer(key.export({ type: "pkcs8", format: "der" }));
  const keyBag = seq(
    oid(P12.shroudedKeyBag),
    explicit0(pbes2Encrypt(pkcs8, opts.passphrase, PFX_ITERATIONS)),
    attributes,
  );
  const certSafe = seq(certBag(leaf, attributes), ...chain.map((der) => certBag(der)));
  const authSafe = seq(encryptedDataContentInfo(certSafe, opts.passphrase), dataContentInfo(seq(keyBag)));
  const authSafeDer = toBinary(authSafe);
  const pfx = seq(
    int(3),
    seq(oid(P12.data), explicit0(octets(authSafeDer))),
    macData(authSafeDer, opts.passphrase),
  );
  return Buffer.from(toBinary(pfx), "binary");
}
