/**
 * The bank's CA signs the CSR, but only through its developer portal (seed 000, Bradesco: "submit the
 * CSR through the developer portal, download the signed certificate"). certrotor cannot call it: the
 * saga opens a sign-csr task and parks, a person uploads the CSR, and `certrotor task complete <task>
 * --cert signed.pem` hands the certificate back, checked against `caFile` (the bank's issuing CA).
 */
import { CertrotorError } from "../errors.js";
import { readCaFile } from "./ca-file.js";
import type { IssuedCertificate, Issuer } from "./types.js";

export function createBankPortalIssuer(name: string, caFile: string): Issuer {
  const bundle = (): Promise<string> =>
    readCaFile(
      name,
      caFile,
      "caFile is the PEM of the bank's CA that signs the certificates its portal issues",
    );
  return {
    kind: "bank-portal",
    name,
    subjectMatch: "exact",
    // the CA the certificate will be checked against must be readable before a key is made
    async check(): Promise<void> {
      await bundle();
    },
    async issue(): Promise<IssuedCertificate> {
      throw new CertrotorError(
        "NOT_SUPPORTED",
        `issuer "${name}" (kind bank-portal) is signed by a person in the bank's portal, not through an API`,
        { hint: "the rotation opens a sign-csr task instead (certrotor task list)" },
      );
    },
    trustBundle: bundle,
    async close(): Promise<void> {},
  };
}
