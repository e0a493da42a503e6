/**
 * PKCS#12 (RFC 7292) writing on node:crypto, one code path for RSA and EC keys, assembled in DER (der.ts)
 * from the PKCS#8 key and the certificates' DER:
 * - the key as a pkcs8ShroudedKeyBag under PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC (run by node:crypto);
 * - leaf and chain certificates as certBags in an encryptedData safe under the same scheme (what
 *   OpenSSL 3 writes by default: subjects can carry personal data such as a CPF);
 * - friendlyName and localKeyId (SHA-1 of the leaf DER) on the key and leaf bags;
 * - an HMAC-SHA256 MAC keyed by the PKCS#12 KDF (run on node:crypto's digests).
 * The password-based keys may be derived ahead, before the certificate exists (pkcs12-keys.ts).
 * Never RC2 or 3DES. OpenSSL, Java keytool and Node's tls.createSecureContext read the result.
 */
import { createHash, X509Certificate } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { privateKeyObject } from "./keys.js";
import { assertKeyMatchesCertificate } from "./match.js";
import { certificateDer, certificatesDer } from "./pem.js";
import { bmp, explicit0, implicitOctets0, int, nullValue, octets, oid, seq, set } from "./der.js";
import { P12, SHA256_OID } from "./pkcs12-asn1.js";
import { derivePfxKeys, PFX_ITERATIONS, PFX_MAC_DIGEST, type PfxKeys } from "./pkcs12-keys.js";
import { macWithKey, pbes2Encrypt } from "./pkcs12-pbe.js";

export { randomPassphrase } from "./pkcs12-keys.js";

export interface BuildPfxOptions {
  keyPem: string;
  certPem: string;
  /** Issuer chain, PEM, any number of certificates. */
  chainPem?: string;
  passphrase: string;
  /** Alias shown by keytool and Windows; defaults to "certrotor". */
  friendlyName?: string;
  /** The passphrase's keys, derived ahead (pkcs12-keys.ts); derived here when absent. */
  keys?: PfxKeys;
}

function bagAttributes(friendlyName: string, localKeyId: Buffer): Buffer {
  return set(
    seq(oid(P12.friendlyName), set(bmp(friendlyName))),
    seq(oid(P12.localKeyId), set(octets(localKeyId))),
  );
}

function certBag(der: Buffer, attributes?: Buffer): Buffer {
  const value = seq(oid(P12.x509Certificate), explicit0(octets(der)));
  return seq(oid(P12.certBag), explicit0(value), ...(attributes ? [attributes] : []));
}

function dataContentInfo(content: Buffer): Buffer {
  return seq(oid(P12.data), explicit0(octets(content)));
}

function encryptedDataContentInfo(content: Buffer, keys: PfxKeys): Buffer {
  const { algorithm, ciphertext } = pbes2Encrypt(content, keys.certSafe, PFX_ITERATIONS);
  const encryptedContentInfo = seq(oid(P12.data), algorithm, implicitOctets0(ciphertext));
  return seq(oid(P12.encryptedData), explicit0(seq(int(0), encryptedContentInfo)));
}

function macData(authSafe: Buffer, keys: PfxKeys): Buffer {
  const mac = macWithKey(authSafe, keys.mac.key, PFX_MAC_DIGEST);
  return seq(seq(seq(oid(SHA256_OID), nullValue()), octets(mac)), octets(keys.mac.salt), int(PFX_ITERATIONS));
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
  if (opts.keys && opts.keys.passphrase !== opts.passphrase)
    throw new CertrotorError("INTERNAL", "PFX build: the keys given were derived from another passphrase");
  const keys = opts.keys ?? derivePfxKeys(opts.passphrase);
  const key = privateKeyObject(opts.keyPem, "PFX key");
  assertKeyMatchesCertificate(opts.keyPem, opts.certPem, "PFX build");
  const { leaf, chain } = certificates(opts);
  const attributes = bagAttributes(
    opts.friendlyName ?? "certrotor",
    createHash("sha1").update(leaf).digest(),
  );

  const shrouded = pbes2Encrypt(key.export({ type: "pkcs8", format: "der" }), keys.keyBag, PFX_ITERATIONS);
  const keyBag = seq(
    oid(P12.shroudedKeyBag),
    explicit0(seq(shrouded.algorithm, octets(shrouded.ciphertext))),
    attributes,
  );
  const certSafe = seq(certBag(leaf, attributes), ...chain.map((der) => certBag(der)));
  const authSafe = seq(encryptedDataContentInfo(certSafe, keys), dataContentInfo(seq(keyBag)));
  return seq(int(3), dataContentInfo(authSafe), macData(authSafe, keys));
}
