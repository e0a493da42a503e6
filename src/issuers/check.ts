/**
 * Checks an issued certificate before it is staged (as cert-manager's issuing controller does): the
 * public key is ours, the chain validates to the issuer's bundle, EKU has clientAuth, the subject is the
 * one we asked for, and the validity window is sane.
 */
import {
  assertKeyMatchesCertificate,
  hasClientAuth,
  inspectCertificate,
  verifyChain,
} from "../crypto/index.js";
import { CertrotorError } from "../errors.js";
import type { IssuedCertificate } from "./types.js";

/** Clock skew tolerated between us and the issuer. */
const SKEW_MS = 5 * 60_000;
/** An issued certificate must be valid for at least this long to be worth staging. */
const MIN_LIFETIME_MS = 60 * 60_000;

export interface IssuedCheckInput {
  issued: IssuedCertificate;
  keyPem: string;
  /** DER and text of the subject we asked for (the old certificate's subject). */
  expectedSubjectDer: Buffer;
  expectedSubject: string;
  subjectMatch: "exact" | "common-name";
  trustBundlePem: string;
  now: Date;
  where: string;
}

export function checkIssuedCertificate(input: IssuedCheckInput): void {
  const { issued, where, now } = input;
  assertKeyMatchesCertificate(input.keyPem, issued.certPem, `${where}: issued certificate`);
  const info = inspectCertificate(issued.certPem);
  const fail = (why: string): never => {
    throw new CertrotorError("CERT_INVALID", `${where}: issued certificate ${why}`, {
      details: { fingerprint: info.fingerprint },
    });
  };
  if (!hasClientAuth(info)) fail("has no clientAuth in its extended key usage");
  if (info.isCa) fail("is a CA certificate");
  const subjectOk =
    input.subjectMatch === "exact"
      ? info.subjectDer.equals(input.expectedSubjectDer)
      : commonName(info.subject) !== undefined &&
        commonName(info.subject) === commonName(input.expectedSubject);
  if (!subjectOk) fail(`has subject "${info.subject}", not the requested "${input.expectedSubject}"`);
  if (info.notBefore.getTime() > now.getTime() + SKEW_MS)
    fail(`is not valid before ${info.notBefore.toISOString()}`);
  if (info.notAfter.getTime() < now.getTime() + MIN_LIFETIME_MS) {
    fail(`expires at ${info.notAfter.toISOString()}, too soon to be worth rotating to`);
  }
  verifyChain(issued.certPem, issued.chainPem || undefined, input.trustBundlePem, now);
}

/** The CN of an RFC 4514 subject string. */
export function commonName(subject: string): string | undefined {
  return /(?:^|,)CN=((?:\\,|[^,])+)/.exec(subject)?.[1]?.replaceAll("\\,", ",");
}
