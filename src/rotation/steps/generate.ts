/**
 * generate: a new private key (native, off the main thread) and a CSR copying the current certificate's
 * subject and SANs byte for byte. Lives in memory only until stage writes it as pending.
 */
import { createCsrFromCertificate, generateKeyPair } from "../../crypto/index.js";
import type { RotationDeps, RotationState } from "../context.js";

export async function generate(_deps: RotationDeps, state: RotationState): Promise<void> {
  if (state.pending || state.promoted) return; // staged in an earlier attempt
  const { keyPem } = await generateKeyPair(state.credential.keyType);
  const csrPem = await createCsrFromCertificate(state.current!.material.certPem, keyPem);
  state.fresh = { keyPem, csrPem };
}
