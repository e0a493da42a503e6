/**
 * generate: a new private key (native, off the main thread) and a CSR copying the current certificate's
 * subject and SANs byte for byte. Lives in memory only until stage writes it as pending.
 */
import { createCsrFromCertificate, generateKeyPair } from "../../crypto/index.js";
import type { FreshPlan, Generated } from "../context.js";

export async function generate(planned: FreshPlan): Promise<Generated> {
  const { keyPem } = await generateKeyPair(planned.credential.keyType);
  const csrPem = await createCsrFromCertificate(planned.current.material.certPem, keyPem);
  return { keyPem, csrPem };
}
