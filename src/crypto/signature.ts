/**
 * Signature algorithms: which one a key signs with, its AlgorithmIdentifier, and verification of a
 * signature given an AlgorithmIdentifier read from a certificate or CSR.
 */
import { type KeyObject, sign, verify } from "node:crypto";
import { children, nullValue, oid, readOid, readRoot, seq } from "./der.js";

const RSA_PKCS1: Record<string, string> = {
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};
const ECDSA: Record<string, string> = {
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};

export interface Signer {
  /** DER AlgorithmIdentifier to write in the TBS and the outer structure. */
  algorithm: Buffer;
  sign(data: Buffer): Buffer;
}

/** RSA signs with SHA-256 (PKCS#1 v1.5); ECDSA with the hash matching the curve (P-256/SHA-256, P-384/SHA-384). */
export function signerFor(privateKey: KeyObject): Signer {
  if (privateKey.asymmetricKeyType === "rsa") {
    return {
      algorithm: seq(oid("1.2.840.113549.1.1.11"), nullValue()),
      sign: (data) => sign("sha256", data, privateKey),
    };
  }
  const hash = privateKey.asymmetricKeyDetails?.namedCurve === "secp384r1" ? "sha384" : "sha256";
  const dotted = hash === "sha384" ? "1.2.840.10045.4.3.3" : "1.2.840.10045.4.3.2";
  return {
    algorithm: seq(oid(dotted)),
    sign: (data) => sign(hash, data, { key: privateKey, dsaEncoding: "der" }),
  };
}

/**
 * Whether `signature` over `data` verifies under `publicKey` with the algorithm in `algorithmDer`.
 * Returns a reason string when the algorithm is not one certrotor accepts (SHA-1, RSA-PSS, ...).
 */
export function verifySignature(
  algorithmDer: Buffer,
  data: Buffer,
  publicKey: KeyObject,
  signature: Buffer,
): { ok: boolean; unsupported?: string } {
  const dotted = readOid(children(readRoot(algorithmDer))[0]!);
  const rsaHash = RSA_PKCS1[dotted];
  const ecHash = ECDSA[dotted];
  if (rsaHash && publicKey.asymmetricKeyType === "rsa")
    return { ok: verify(rsaHash, data, publicKey, signature) };
  if (ecHash && publicKey.asymmetricKeyType === "ec") {
    return { ok: verify(ecHash, data, { key: publicKey, dsaEncoding: "der" }, signature) };
  }
  return {
    ok: false,
    unsupported: `signature algorithm ${dotted} with a ${publicKey.asymmetricKeyType} key`,
  };
}
