/**
 * verify: prove the new material works at the bank before anyone depends on it: a client_credentials
 * token call over mTLS with the NEW key and cert (and the cnf.x5t#S256 binding where the token has one),
 * optionally followed by the protected probe call.
 */
import { CertrotorError } from "../../errors.js";
import type { FreshPlan, RotationDeps, Staged } from "../context.js";
import { fenced } from "../fence.js";

export async function verify(deps: RotationDeps, planned: FreshPlan, staged: Staged): Promise<void> {
  const clientSecret = staged.clientSecret ?? planned.current.material.clientSecret;
  if (!clientSecret) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `credential "${planned.credential.id}": the stored material has no client secret, so the new certificate cannot be verified`,
      { details: { credentialId: planned.credential.id, field: "clientSecret" } },
    );
  }
  await fenced(planned, () =>
    deps.bank.verify(
      {
        certPem: staged.certPem,
        keyPem: staged.keyPem,
        ...(staged.chainPem ? { chainPem: staged.chainPem } : {}),
      },
      { clientId: planned.clientId, clientSecret },
      deps.probeAccountId ? { probeAccountId: deps.probeAccountId } : {},
    ),
  );
}
