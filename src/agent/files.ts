/**
 * What `certrotor agent` writes for one material: the PEM files a TLS client reads (curl, nginx, Java,
 * Go, Python), and a PKCS#12 for those that take one, with its passphrase in a file of its own. The key,
 * the PKCS#12 and its passphrase are mode 0600; the certificate and the chain 0644.
 */
import { buildPfx } from "../crypto/index.js";
import type { Material } from "../stores/types.js";

export const AGENT_FILES = {
  cert: "client.pem",
  key: "client.key",
  chain: "chain.pem",
  pfx: "client.pfx",
  passphrase: "client.pfx.pass",
} as const;

export interface AgentFile {
  name: string;
  mode: number;
  content: string | Buffer;
}

/** The PEM files of `material`: what decides whether the files on disk are current. */
export function pemFiles(material: Material): AgentFile[] {
  return [
    // chain first, key before certificate: a reader that looks between two renames finds the new key with
    // the old certificate at worst, which certrotor/client (and any key-match check) refuses and retries
    { name: AGENT_FILES.chain, mode: 0o644, content: material.chainPem ?? "" },
    { name: AGENT_FILES.key, mode: 0o600, content: material.keyPem },
    { name: AGENT_FILES.cert, mode: 0o644, content: material.certPem },
  ];
}

/**
 * Every file for `material`, in the order they are renamed into place. The passphrase file is written only
 * when it is new: the agent keeps one passphrase for the directory's life, so a PKCS#12 and the
 * passphrase beside it always match, whichever of the two a reader opened first.
 */
export function agentFiles(
  material: Material,
  passphrase: { value: string; isNew: boolean },
  friendlyName: string,
): AgentFile[] {
  const pfx = buildPfx({
    keyPem: material.keyPem,
    certPem: material.certPem,
    ...(material.chainPem ? { chainPem: material.chainPem } : {}),
    passphrase: passphrase.value,
    friendlyName,
  });
  return [
    ...(passphrase.isNew
      ? [{ name: AGENT_FILES.passphrase, mode: 0o600, content: `${passphrase.value}\n` }]
      : []),
    { name: AGENT_FILES.pfx, mode: 0o600, content: pfx },
    ...pemFiles(material),
  ];
}
