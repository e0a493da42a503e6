/**
 * Material of a credential as an institution's tooling would have made it before certrotor took over:
 * a fresh key, a client certificate signed by the institution's CA with a chosen expiry, and the CA as
 * chain. The demo, the tests' worlds and the soak seed their stores with it.
 */
import type { KeyType } from "../config/schema.js";
import { createCsr, fingerprintOf, generateKeyPair, signClientCsr } from "../crypto/index.js";
import type { Material } from "../stores/types.js";

const DAY_MS = 86_400_000;

export interface CredentialMaterialOptions {
  ca: { certPem: string; keyPem: string };
  keyType: KeyType;
  subject: string;
  sans?: string[];
  /** The certificate's notAfter. */
  notAfter: Date;
  /** Its lifetime: notBefore = notAfter − lifetime (default 90 days). */
  lifetimeMs?: number;
  clientId: string;
  clientSecret: string;
}

export async function credentialMaterial(options: CredentialMaterialOptions): Promise<Material> {
  const { ca, notAfter } = options;
  const lifetime = options.lifetimeMs ?? 90 * DAY_MS;
  const { keyPem } = await generateKeyPair(options.keyType);
  const csrPem = await createCsr({
    keyPem,
    subject: options.subject,
    ...(options.sans ? { sans: options.sans } : {}),
  });
  const certPem = await signClientCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: lifetime,
    notBefore: new Date(notAfter.getTime() - lifetime),
    notAfter,
  });
  return {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    certPem,
    chainPem: ca.certPem,
    keyPem,
    fingerprint: fingerprintOf(certPem),
    notAfter: notAfter.toISOString(),
  };
}
