/**
 * verify: prove the new material works at the bank before anyone depends on it: a client_credentials
 * token call over mTLS with the NEW key and cert (and the cnf.x5t#S256 binding where the token has one),
 * optionally followed by the protected probe call.
 */
import { CertrotorError } from "../../errors.js";
import type { RotationDeps, RotationState } from "../context.js";

export async function verify(deps: RotationDeps, state: RotationState): Promise<void> {
  if (state.promoted) return;
  const staged = state.staged!;
  const clientSecret = staged.clientSecret ?? state.current?.material.clientSecret;
  if (!clientSecret) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `credential "${state.credential.id}": the stored material has no client secret, so the new certificate cannot be verified`,
      { details: { credentialId: state.credential.id, field: "clientSecret" } },
    );
  }
  await deps.bank.verify(
    {
      certPem: staged.certPem,
      keyPem: staged.keyPem,
      ...(staged.chainPem ? { chainPem: staged.chainPem } : {}),
    },
    { clientId: state.clientId, clientSecret },
    deps.probeAccountId ? { probeAccountId: deps.probeAccountId } : {},
  );
}
