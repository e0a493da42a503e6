/**
 * Chain validation: does the leaf chain, through the given intermediates, to a certificate of the
 * trusted CA bundle, with every signature verifying, every certificate valid at `now` and every issuer
 * a CA. Any bundle certificate is a trust anchor (like OpenSSL's -partial_chain): banks pin the
 * institution's issuing CA, which need not be a root. Revocation is out of scope here.
 */
import { CertrotorError } from "../errors.js";
import {
  type AsnExtension,
  decodeBasicConstraints,
  decodeKeyUsage,
  EXT,
  findExtension,
} from "./extensions.js";
import { formatAsnName } from "./names.js";
import {
  extensionsOf,
  issuerDerOf,
  type ParsedCertificate,
  parseCertificate,
  subjectDerOf,
} from "./parse.js";
import { certificatesDer } from "./pem.js";

interface Cert extends ParsedCertificate {
  name: string;
  issuerName: string;
  subjectDer: Buffer;
  issuerDer: Buffer;
  /** basicConstraints CA:true. */
  ca: boolean;
  /** keyUsage allows keyCertSign, or there is no keyUsage. */
  mayCertify: boolean;
  notBefore: Date;
  notAfter: Date;
}

const MAX_DEPTH = 8;

/** RFC 5280 §4.2.1.9 and §4.2.1.3: an issuer must be a CA and, when keyUsage is present, allow keyCertSign. */
function issuerFlags(extensions: AsnExtension[]): { ca: boolean; mayCertify: boolean } {
  const bc = findExtension(extensions, EXT.basicConstraints);
  const ku = findExtension(extensions, EXT.keyUsage);
  return {
    ca: bc ? decodeBasicConstraints(bc).ca : false,
    mayCertify: ku ? decodeKeyUsage(ku).includes("keyCertSign") : true,
  };
}

/** What a chain check derives from a parsed certificate (parses are shared, so this is too). */
const derived = new WeakMap<ParsedCertificate, Cert>();

function derive(cert: ParsedCertificate, where: string): Cert {
  const known = derived.get(cert);
  if (known) return known;
  try {
    const { subject, issuer } = cert.asn.tbsCertificate;
    const out: Cert = {
      ...cert,
      name: formatAsnName(subject),
      issuerName: formatAsnName(issuer),
      subjectDer: subjectDerOf(cert),
      issuerDer: issuerDerOf(cert),
      ...issuerFlags(extensionsOf(cert)),
      notBefore: new Date(cert.native.validFrom),
      notAfter: new Date(cert.native.validTo),
    };
    derived.set(cert, out);
    return out;
  } catch (error) {
    throw new CertrotorError("PEM_MALFORMED", `${where}: a certificate cannot be parsed as X.509`, {
      cause: error,
      details: { where },
    });
  }
}

function load(pem: string, where: string): Cert[] {
  return certificatesDer(pem, where).map((der) => derive(parseCertificate(der, where), where));
}

function checkValidity(cert: Cert, now: Date, fail: (why: string) => never): void {
  if (now < cert.notBefore) fail(`"${cert.name}" is not valid before ${cert.notBefore.toISOString()}`);
  if (now > cert.notAfter) fail(`"${cert.name}" expired at ${cert.notAfter.toISOString()}`);
}

/** The certificates among `candidates` named as `cert`'s issuer whose key verifies `cert`'s signature. */
function issuersOf(cert: Cert, candidates: readonly Cert[]): Cert[] {
  return candidates.filter(
    (candidate) =>
      candidate.subjectDer.equals(cert.issuerDer) && cert.native.verify(candidate.native.publicKey),
  );
}

function checkIssuer(issuer: Cert, fail: (why: string) => never): void {
  if (!issuer.ca) fail(`issuer "${issuer.name}" is not a CA (basicConstraints CA:true missing)`);
  if (!issuer.mayCertify) {
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
      const named = [...anchors, ...intermediates].some((c) => c.subjectDer.equals(current.issuerDer));
      fail(
        named
          ? `the signature of "${current.name}" does not verify with any certificate named "${current.issuerName}"`
          : `no certificate in the chain or CA bundle issued "${current.name}" (issuer "${current.issuerName}")`,
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
