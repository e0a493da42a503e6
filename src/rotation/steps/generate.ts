/**
 * generate: a new private key (native, off the main thread) and a CSR copying the current certificate's
 * subject and SANs byte for byte, and for a credential with a PFX the PFX's passphrase, whose keys are
 * derived while the certificate is issued. Lives in memory only until stage writes it as pending.
 */
import { createCsrFromCertificate, generateKeyPair, pfxKeysAhead } from "../../crypto/index.js";
import type { FreshPlan, Generated } from "../context.js";

export async function generate(planned: FreshPlan, pfxAhead = planned.credential.pfx): Promise<Generated> {
  const { keyPem } = await generateKeyPair(planned.credential.keyType);
  // the PFX's keys depend only on its passphrase: they are derived off the main thread from here to stage,
  // started once the key is made, as the keygen's thread and the derivation's slowed each other (1 ms here)
  const pfxKeys = pfxAhead ? pfxKeysAhead() : undefined;
  const csrPem = await createCsrFromCertificate(planned.current.material.certPem, keyPem);
  return { keyPem, csrPem, ...(pfxKeys ? { pfxKeys } : {}) };
}
