/**
 * The legacy PKCS#12 PBE schemes (RFC 7292 appendix C: SHA-1 with 3DES or 40/128-bit RC2), which older
 * OpenSSL, Windows and some bank portals still write. node:crypto cannot run RC2 (OpenSSL 3 keeps it in
 * the legacy provider, which Node does not load), so these go through node-forge's JavaScript pbe, loaded
 * on the first such file: no other command or PFX pays node-forge's load time. certrotor never writes them.
 */
import { createRequire } from "node:module";
import type Forge from "node-forge";
import { UnsupportedAlgorithm } from "./pkcs12-asn1.js";

interface ForgeCipher {
  update(data: Forge.util.ByteStringBuffer): void;
  finish(): boolean;
  output: Forge.util.ByteStringBuffer;
}
// forge.pki.pbe is public API that @types/node-forge does not declare.
type ForgePbe = { getCipher(oid: string, params: Forge.asn1.Asn1, password: string): ForgeCipher };

let forge: typeof Forge | undefined;

/** node-forge, required on first use (it is CommonJS; readPfx stays synchronous). */
function loadForge(): typeof Forge {
  forge ??= createRequire(import.meta.url)("node-forge") as typeof Forge;
  return forge;
}

/** True once a legacy PFX made this process load node-forge (the start-up test checks it stays false). */
export function forgeLoaded(): boolean {
  return forge !== undefined;
}

/**
 * Decrypts `ciphertext` under PKCS#12 PBE scheme `scheme` with parameters `paramsDer` (salt, iterations).
 * forge derives key and IV from the passphrase's BMPString, as the scheme requires. Returns undefined when
 * the padding check fails (a wrong passphrase).
 */
export function legacyDecrypt(
  scheme: string,
  paramsDer: Buffer,
  ciphertext: Buffer,
  passphrase: string,
): Buffer | undefined {
  const lib = loadForge();
  const pbe = (lib.pki as unknown as { pbe: ForgePbe }).pbe;
  let cipher: ForgeCipher;
  try {
    const params = lib.asn1.fromDer(lib.util.createBuffer(paramsDer.toString("binary")));
    cipher = pbe.getCipher(scheme, params, passphrase);
  } catch (error) {
    throw new UnsupportedAlgorithm(`encryption scheme ${scheme}`, { cause: error });
  }
  cipher.update(lib.util.createBuffer(ciphertext.toString("binary")));
  return cipher.finish() ? Buffer.from(cipher.output.getBytes(), "binary") : undefined;
}
