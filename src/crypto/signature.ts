/**
 * The signatures certrotor makes over DER (CSRs, certificates): node:crypto, synchronous, with the
 * algorithm identifier X.509 names for it. RSA signs SHA-256 with PKCS#1 v1.5, ECDSA the hash matching its
 * curve (P-256/SHA-256, P-384/SHA-384): the algorithms certrotor signed with when it went through WebCrypto.
 */
import { type KeyObject, sign } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { bytes } from "./bytes.js";
import { seq, tlv } from "./der.js";

/** The signature algorithm of `key`'s signatures. */
export function signatureAlgorithmOf(key: KeyObject): { hash: string; algorithm: AlgorithmIdentifier } {
  if (key.asymmetricKeyType === "rsa") {
    // sha256WithRSAEncryption, parameters NULL (RFC 4055 §5)
    return {
      hash: "sha256",
      algorithm: new AlgorithmIdentifier({ algorithm: "1.2.840.113549.1.1.11", parameters: null }),
    };
  }
  const p384 = key.asymmetricKeyDetails?.namedCurve === "secp384r1";
  // ecdsa-with-SHA256 / -SHA384, parameters absent (RFC 5758 §3.2)
  return {
    hash: p384 ? "sha384" : "sha256",
    algorithm: new AlgorithmIdentifier({ algorithm: p384 ? "1.2.840.10045.4.3.3" : "1.2.840.10045.4.3.2" }),
  };
}

/**
 * A signed structure's DER, as certificates and CSRs share it: SEQUENCE { toBeSigned, signatureAlgorithm,
 * signature BIT STRING }, assembled around the very bytes that were signed. (Serializing the library's
 * Certificate or CertificationRequest object encoded the signed part a second time, about 0.3 ms.)
 */
export function signedDer(key: KeyObject, toBeSigned: Buffer): Buffer {
  const { hash, algorithm } = signatureAlgorithmOf(key);
  const signature = sign(hash, toBeSigned, { key, dsaEncoding: "der" });
  const bitString = tlv(0x03, [Buffer.of(0), signature]); // no unused bits
  return seq(toBeSigned, bytes(AsnConvert.serialize(algorithm)), bitString);
}
