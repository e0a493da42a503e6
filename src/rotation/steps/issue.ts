/**
 * issue: get the CSR signed and check what comes back before anything else sees it: our public key,
 * a chain to the issuer's bundle, clientAuth, the requested subject, a sane validity window.
 */
import { CertrotorError, isCertrotorError } from "../../errors.js";
import { checkIssuedCertificate } from "../../issuers/check.js";
import type { FreshPlan, Generated, Issued, RotationDeps } from "../context.js";
import { fenced } from "../fence.js";

export async function issue(deps: RotationDeps, planned: FreshPlan, generated: Generated): Promise<Issued> {
  const { credential } = planned;
  let issued: Awaited<ReturnType<typeof deps.issuer.issue>>;
  try {
    issued = await fenced(planned, () =>
      deps.issuer.issue({
        csrPem: generated.csrPem,
        rotationId: planned.rotationId,
        credentialId: credential.id,
        now: deps.now(),
      }),
    );
  } catch (error) {
    if (isCertrotorError(error)) throw error;
    throw new CertrotorError(
      "ISSUER_FAILED",
      `issuer "${deps.issuer.name}" did not sign the CSR of "${credential.id}"`,
      { cause: error },
    );
  }
  checkIssuedCertificate({
    issued,
    keyPem: generated.keyPem,
    expectedSubjectDer: planned.currentInfo.subjectDer,
    expectedSubject: planned.currentInfo.subject,
    subjectMatch: deps.issuer.subjectMatch,
    trustBundlePem: await deps.issuer.trustBundle(),
    now: deps.now(),
    where: `issuer "${deps.issuer.name}" for credential "${credential.id}"`,
  });
  return { ...generated, certPem: issued.certPem, chainPem: issued.chainPem };
}
