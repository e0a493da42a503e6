/**
 * Material and clients for the Vault store tests: real P-256 client certificates from a CA made at test
 * time (test/fixtures/pki.ts), a real PKCS#12 with a random passphrase, and an operator's node-vault client.
 */
import { randomBytes } from "node:crypto";
import nodeVault from "node-vault";
import { buildPfx, randomPassphrase } from "../../src/crypto/index.js";
import type { Material } from "../../src/stores/types.js";
import type { VaultEmulator } from "../emulators/vault/server.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";

let ca: PkiMaterial | undefined;

export async function testCa(): Promise<PkiMaterial> {
  ca ??= await aCa();
  return ca;
}

/** Complete material: cert, key, chain, PFX + passphrase, client secret. */
export async function aMaterial(): Promise<Material> {
  const issuer = await testCa();
  const cert = await aClientCert({ ca: issuer });
  const pfxPassphrase = randomPassphrase();
  const pfx = buildPfx({
    keyPem: cert.keyPem,
    certPem: cert.certPem,
    chainPem: issuer.certPem,
    passphrase: pfxPassphrase,
  });
  return {
    clientId: `client-${randomBytes(3).toString("hex")}`,
    clientSecret: `cs-${randomBytes(18).toString("base64url")}`,
    certPem: cert.certPem,
    chainPem: issuer.certPem,
    keyPem: cert.keyPem,
    pfxBase64: pfx.toString("base64"),
    pfxPassphrase,
    fingerprint: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
  };
}

/** An operator's node-vault client (root token unless given), optionally in a namespace. */
export function anAdmin(
  vault: VaultEmulator,
  namespace?: string,
  extra: object = {},
): ReturnType<typeof nodeVault> {
  return nodeVault({
    endpoint: vault.url,
    token: vault.rootToken,
    ...(namespace ? { namespace } : {}),
    ...extra,
  });
}
