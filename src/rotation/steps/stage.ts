/**
 * stage: write the new key, cert, chain (and PFX) to the store as pending for this rotation id, so that
 * a key is always retrievable before its cert is bound anywhere (invariant 3).
 */
import { buildPfx, inspectCertificate, randomPassphrase } from "../../crypto/index.js";
import type { Material } from "../../stores/types.js";
import type { FreshPlan, Issued, RotationDeps, Staged } from "../context.js";
import type { ResolvedCredential } from "../credentials.js";
import { fenced } from "../fence.js";

/** What staged material is made of beside the issued certificate: whose, for which rotation. */
export interface StageTarget {
  credential: ResolvedCredential;
  rotationId: string;
  clientId: string;
  /** The current material's client secret, carried over. */
  clientSecret?: string;
}

/** The pending material of `issued` (and its PFX, where the credential wants one). */
export function stagedMaterial(target: StageTarget, issued: Issued, pfx = target.credential.pfx): Material {
  const info = inspectCertificate(issued.certPem);
  const material: Material = {
    clientId: target.clientId,
    ...(target.clientSecret !== undefined ? { clientSecret: target.clientSecret } : {}),
    certPem: issued.certPem,
    ...(issued.chainPem ? { chainPem: issued.chainPem } : {}),
    keyPem: issued.keyPem,
    fingerprint: info.fingerprint,
    notAfter: info.notAfter.toISOString(),
    rotationId: target.rotationId,
  };
  if (pfx) {
    const passphrase = issued.pfxKeys?.passphrase ?? randomPassphrase();
    const bytes = buildPfx({
      keyPem: issued.keyPem,
      certPem: issued.certPem,
      ...(issued.chainPem ? { chainPem: issued.chainPem } : {}),
      passphrase,
      friendlyName: target.credential.id,
      ...(issued.pfxKeys ? { keys: issued.pfxKeys.take() } : {}),
    });
    material.pfxBase64 = bytes.toString("base64");
    material.pfxPassphrase = passphrase;
  }
  return material;
}

export function stageTargetOf(planned: FreshPlan): StageTarget {
  const { clientSecret } = planned.current.material;
  return {
    credential: planned.credential,
    rotationId: planned.rotationId,
    clientId: planned.clientId,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
  };
}

export async function stage(deps: RotationDeps, planned: FreshPlan, issued: Issued): Promise<Staged> {
  const material = stagedMaterial(stageTargetOf(planned), issued);
  await fenced(planned, () => deps.store.writePending(planned.credential.ref, planned.rotationId, material));
  return material;
}
