/**
 * issue: get the CSR signed and check what comes back before anything else sees it: our public key,
 * a chain to the issuer's bundle, clientAuth, the requested subject, a sane validity window.
 */
import { CertrotorError, isCertrotorError } from "../../errors.js";
import { checkIssuedCertificate } from "../../issuers/check.js";
import type { RotationDeps, RotationState } from "../context.js";

export async function issue(deps: RotationDeps, state: RotationState): Promise<void> {
  if (state.pending || state.promoted || !state.fresh) return;
  const { fresh, credential } = state;
  let issued: Awaited<ReturnType<typeof deps.issuer.issue>>;
  try {
    issued = await deps.issuer.issue({
      csrPem: fresh.csrPem,
      rotationId: state.rotationId,
      credentialId: credential.id,
      now: deps.now(),
    });
  } catch (error) {
    if (isCertrotorError(error)) throw error;
    throw new CertrotorError(
      "ISSUER_FAILED",
      `issuer "${deps.issuer.name}" did not sign the CSR of "${credential.id}"`,
      {
        cause: error,
      },
    );
  }
  checkIssuedCertificate({
    issued,
    keyPem: fresh.keyPem,
    expectedSubjectDer: state.currentInfo!.subjectDer,
    expectedSubject: state.currentInfo!.subject,
    subjectMatch: deps.issuer.subjectMatch,
    trustBundlePem: await deps.issuer.trustBundle(),
    now: deps.now(),
    where: `issuer "${deps.issuer.name}" for credential "${credential.id}"`,
  });
  fresh.certPem = issued.certPem;
  fresh.chainPem = issued.chainPem;
}
