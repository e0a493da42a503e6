/**
 * The bank signs the CSR through its admin API (seed 000's model: the CSR is submitted and the bank's CA
 * signs it). The idempotency key ties the request to this rotation AND this CSR, so a retry with the same
 * key returns the same certificate, and a retry after a crash (new key, new CSR) gets a new one.
 */
import { createHash } from "node:crypto";
import type { CsrSigner } from "../bank/types.js";
import { CertrotorError } from "../errors.js";
import { readCaFile } from "./ca-file.js";
import type { IssueRequest, IssuedCertificate, Issuer } from "./types.js";

/** The trust bundle before the bank's first signature is unknown without `caFile` (import asks for it). */
export function bankCaUnknown(name: string): CertrotorError {
  return new CertrotorError(
    "NOT_SUPPORTED",
    `issuer "${name}": the bank's CA is known only after it signed a CSR`,
    { hint: `set issuers.${name}.caFile to the bank's issuing CA (PEM), where the bank publishes it` },
  );
}

export function createBankIssuer(name: string, bank: CsrSigner, caFile?: string): Issuer {
  let lastChain: string | undefined;
  return {
    kind: "bank",
    name,
    subjectMatch: "exact",
    async check(): Promise<void> {},
    async issue(request: IssueRequest): Promise<IssuedCertificate> {
      const csrHash = createHash("sha256").update(request.csrPem).digest("hex").slice(0, 16);
      const issued = await bank.signCsr(request.csrPem, {
        idempotencyKey: `${request.rotationId}-${csrHash}`,
      });
      lastChain = issued.chainPem;
      return { certPem: issued.certPem, chainPem: issued.chainPem };
    },
    async trustBundle(): Promise<string> {
      if (lastChain) return lastChain;
      if (!caFile) throw bankCaUnknown(name);
      return readCaFile(
        name,
        caFile,
        "caFile is the PEM of the bank's CA that signs the certificates of its admin API",
      );
    },
    async close(): Promise<void> {},
  };
}
