/**
 * stage: write the new key, cert, chain (and PFX) to the store as pending for this rotation id, so that
 * a key is always retrievable before its cert is bound anywhere (invariant 3).
 */
import { buildPfx, inspectCertificate, randomPassphrase } from "../../crypto/index.js";
import type { Material } from "../../stores/types.js";
import type { RotationDeps, RotationState } from "../context.js";

export async function stage(deps: RotationDeps, state: RotationState): Promise<void> {
  if (state.promoted) return;
  if (state.pending) {
    state.staged = state.pending.material;
    return;
  }
  const { fresh, current, credential } = state;
  if (!fresh?.certPem || !current) throw new Error("stage: nothing was issued");
  const info = inspectCertificate(fresh.certPem);
  const material: Material = {
    clientId: state.clientId,
    ...(current.material.clientSecret !== undefined ? { clientSecret: current.material.clientSecret } : {}),
    certPem: fresh.certPem,
    ...(fresh.chainPem ? { chainPem: fresh.chainPem } : {}),
    keyPem: fresh.keyPem,
    fingerprint: info.fingerprint,
    notAfter: info.notAfter.toISOString(),
    rotationId: state.rotationId,
  };
  if (credential.pfx) {
    const passphrase = randomPassphrase();
    const pfx = buildPfx({
      keyPem: fresh.keyPem,
      certPem: fresh.certPem,
      ...(fresh.chainPem ? { chainPem: fresh.chainPem } : {}),
      passphrase,
      friendlyName: credential.id,
    });
    material.pfxBase64 = pfx.toString("base64");
    material.pfxPassphrase = passphrase;
  }
  await deps.store.writePending(credential.ref, state.rotationId, material);
  state.staged = material;
}
