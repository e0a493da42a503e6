/**
 * stage: write the new key, cert, chain (and PFX) to the store as pending for this rotation id, so that
 * a key is always retrievable before its cert is bound anywhere (invariant 3).
 */
import { buildPfx, inspectCertificate, randomPassphrase } from "../../crypto/index.js";
import type { FreshPlan, Issued, RotationDeps, Staged } from "../context.js";
import { fenced } from "../fence.js";

export async function stage(deps: RotationDeps, planned: FreshPlan, issued: Issued): Promise<Staged> {
  const { current, credential } = planned;
  const info = inspectCertificate(issued.certPem);
  const material: Staged = {
    clientId: planned.clientId,
    ...(current.material.clientSecret !== undefined ? { clientSecret: current.material.clientSecret } : {}),
    certPem: issued.certPem,
    ...(issued.chainPem ? { chainPem: issued.chainPem } : {}),
    keyPem: issued.keyPem,
    fingerprint: info.fingerprint,
    notAfter: info.notAfter.toISOString(),
    rotationId: planned.rotationId,
  };
  if (credential.pfx) {
    const passphrase = randomPassphrase();
    const pfx = buildPfx({
      keyPem: issued.keyPem,
      certPem: issued.certPem,
      ...(issued.chainPem ? { chainPem: issued.chainPem } : {}),
      passphrase,
      friendlyName: credential.id,
    });
    material.pfxBase64 = pfx.toString("base64");
    material.pfxPassphrase = passphrase;
  }
  await fenced(planned, () => deps.store.writePending(credential.ref, planned.rotationId, material));
  return material;
}
