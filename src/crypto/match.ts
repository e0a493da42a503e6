/** Does a private key belong to a certificate: OpenSSL compares the certificate's public key with the key's. */
import { createHash } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { privateKeyObject } from "./keys.js";
import { Memo } from "./memo.js";
import { parseCertificatePem } from "./parse.js";

/**
 * Pairs already found to match, by SHA-256 of key PEM and certificate PEM (digests, never the key): a
 * rotation checks its new pair in issue and again in the PFX build, the current pair in plan.
 */
const matched = new Memo<true>(256);
const pairDigest = (keyPem: string, certPem: string): string =>
  createHash("sha256").update(keyPem).update("\0").update(certPem).digest("hex");

/** True when `keyPem`'s public half is the certificate's public key. Bad PEM throws its coded error. */
export function keyMatchesCertificate(
  keyPem: string,
  certPem: string,
  where = "key and certificate",
): boolean {
  const digest = pairDigest(keyPem, certPem);
  if (matched.peek(digest)) return true;
  const key = privateKeyObject(keyPem, `${where} (key)`);
  // OpenSSL compares the public halves (X509_check_private_key), exporting neither as SPKI DER; the
  // certificate comes from the shared parse, as its callers inspect it next (plan, issue, import, PFX)
  const matches = parseCertificatePem(certPem, `${where} (certificate)`).native.checkPrivateKey(key);
  if (matches) matched.add(digest, true);
  return matches;
}

/** Throws KEY_MISMATCH naming `where` unless the key belongs to the certificate. */
export function assertKeyMatchesCertificate(keyPem: string, certPem: string, where: string): void {
  if (!keyMatchesCertificate(keyPem, certPem, where)) {
    throw new CertrotorError("KEY_MISMATCH", `${where}: the private key does not belong to the certificate`, {
      details: { where },
    });
  }
}
