/**
 * Chain validation: does the leaf chain, through the given intermediates, to a certificate of the
 * trusted CA bundle, with every signature verifying, every certificate valid at `now` and every issuer
 * a CA. Any bundle certificate is a trust anchor (like OpenSSL's -partial_chain): banks pin the
 * institution's issuing CA, which need not be a root. Revocation is out of scope here.
 */
import { X509Certificate } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { decodeBasicConstraints, decodeKeyUsage, EXT } from "./extensions.js";
import { formatName } from "./names.js";
import { certificatesDer } from "./pem.js";
import { type CertificateParts, certificateParts } from "./structure.js";

interface Cert {
  der: Buffer;
  native: X509Certificate;
  parts: CertificateParts;
  name: string;
}

const MAX_DEPTH = 8;

function load(pem: string, where: string): Cert[] {
  return certificatesDer(pem, where).map((der) => {
    try {
      const parts = certificateParts(der);
      return { der, native: new X509Certificate(der), parts, name: formatName(parts.subject) };
    } catch (error) {
      throw new CertrotorError("PEM_MALFORMED", `${where}: a certificate cannot be parsed as X.509`, {
        cause: error,
        details: { where },
      });
    }
  });
}

function checkValidity(cert: Cert, now: Date, fail: (why: string) => never): void {
  if (now < cert.parts.notBefore)
    fail(`"${cert.name}" is not valid before ${cert.parts.notBefore.toISOString()}`);
  if (now > cert.parts.notAfter) fail(`"${cert.name}" expired at ${cert.parts.notAfter.toISOString()}`);
}

/** The certificates among `candidates` named as `cert`'s issuer whose key verifies `cert`'s signature. */
function issuersOf(cert: Cert, candidates: readonly Cert[]): Cert[] {
  return candidates.filter(
    (candidate) =>
      candidate.parts.subject.equals(cert.parts.issuer) && cert.native.verify(candidate.native.publicKey),
  );
}

/** RFC 5280 §4.2.1.9 and §4.2.1.3: an issuer must be a CA and, when keyUsage is present, allow keyCertSign. */
function checkIssuer(issuer: Cert, fail: (why: string) => never): void {
  const bc = issuer.parts.extensions.find((ext) => ext.oid === EXT.basicConstraints);
  if (!bc || !decodeBasicConstraints(bc.value).ca)
    fail(`issuer "${issuer.name}" is not a CA (basicConstraints CA:true missing)`);
  const ku = issuer.parts.extensions.find((ext) => ext.oid === EXT.keyUsage);
  if (ku && !decodeKeyUsage(ku.value).includes("keyCertSign")) {
    fail(`issuer "${issuer.name}" has a keyUsage without keyCertSign`);
  }
}

/**
 * Validates `certPem` (leaf first; further blocks count as chain) plus `chainPem` against
 * `caBundlePem` at `now`. Returns the subjects from leaf to trust anchor. Throws CHAIN_INVALID naming
 * `where` and the reason.
 */
export function verifyChain(
  certPem: string,
  chainPem: string | undefined,
  caBundlePem: string,
  now: Date = new Date(),
  where = "certificate",
): string[] {
  const fail = (why: string): never => {
    throw new CertrotorError("CHAIN_INVALID", `${where}: ${why}`, { details: { where } });
  };
  const [leaf, ...fromCert] = load(certPem, where);
  const intermediates = [...fromCert, ...(chainPem?.trim() ? load(chainPem, `${where} chain`) : [])];
  const anchors = load(caBundlePem, `${where} CA bundle`);
  const path: string[] = [];
  let current = leaf!;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    checkValidity(current, now, fail);
    path.push(current.name);
    if (anchors.some((anchor) => anchor.der.equals(current.der))) return path;
    const trusted = issuersOf(current, anchors)[0];
    const next = trusted ?? issuersOf(current, intermediates)[0];
    if (!next) {
      const named = [...anchors, ...intermediates].some((c) => c.parts.subject.equals(current.parts.issuer));
      fail(
        named
          ? `the signature of "${current.name}" does not verify with any certificate named "${formatName(current.parts.issuer)}"`
          : `no certificate in the chain or CA bundle issued "${current.name}" (issuer "${formatName(current.parts.issuer)}")`,
      );
    }
    checkIssuer(next!, fail);
    if (trusted) {
      checkValidity(trusted, now, fail);
      path.push(trusted.name);
      return path;
    }
    current = next!;
  }
  return fail(`the chain is longer than ${MAX_DEPTH} certificates`);
}
