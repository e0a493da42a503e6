/**
 * `certrotor export`: the credential's current material as files, for a consumer that reads files or for
 * a hand-over. Public parts by default (certificate, chain, a summary with fingerprint and validity);
 * the key and a PKCS#12 only when asked, mode 0600 in a 0700 directory. The client secret is never
 * exported: it stays in the store. A directory that already holds files is refused unless forced, so an
 * export never silently mixes with (or overwrites) other material.
 */
import { chmod, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildPfx, inspectCertificate, randomPassphrase } from "../crypto/index.js";
import { CertrotorError } from "../errors.js";
import type { StoredMaterial } from "../stores/types.js";
import { ensureWritableDirectory, pathNotWritable } from "../util/dirs.js";

export interface ExportRequest {
  credentialId: string;
  current: StoredMaterial;
  dir: string;
  includeKey: boolean;
  /** The PKCS#12 passphrase (from --pfx-passphrase-env); a random one is written beside it otherwise. */
  pfxPassphrase?: string;
  force: boolean;
}

export interface ExportedFile {
  name: string;
  secret: boolean;
  summary: string;
}

async function refuseNonEmpty(dir: string, force: boolean): Promise<void> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw pathNotWritable("--out", dir, error);
  });
  if (entries.length > 0 && !force) {
    throw new CertrotorError(
      "OUT_DIR_NOT_EMPTY",
      `--out ${dir}: the directory exists and holds ${entries.length} entr${entries.length === 1 ? "y" : "ies"}; nothing was written`,
      {
        hint: "give an empty or new directory, or --force to write the export's files into it (same names are replaced)",
      },
    );
  }
}

export async function exportMaterial(request: ExportRequest): Promise<ExportedFile[]> {
  const { material } = request.current;
  const info = inspectCertificate(material.certPem);
  const files: Array<ExportedFile & { content: string | Buffer }> = [
    { name: "cert.pem", secret: false, summary: "client certificate", content: material.certPem },
  ];
  if (material.chainPem?.trim())
    files.push({ name: "chain.pem", secret: false, summary: "issuer chain", content: material.chainPem });
  files.push({
    name: "summary.json",
    secret: false,
    summary: "fingerprint, validity, subject",
    content: `${JSON.stringify(
      {
        credentialId: request.credentialId,
        clientId: material.clientId,
        fingerprint: info.fingerprint,
        subject: info.subject,
        issuer: info.issuer,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        ...(material.rotationId ? { writtenBy: material.rotationId } : {}),
      },
      null,
      2,
    )}\n`,
  });
  if (request.includeKey) {
    const passphrase = request.pfxPassphrase ?? randomPassphrase();
    files.push({ name: "key.pem", secret: true, summary: "private key (PKCS#8)", content: material.keyPem });
    files.push({
      name: "credential.p12",
      secret: true,
      summary: "PKCS#12: key, certificate, chain",
      content: buildPfx({
        keyPem: material.keyPem,
        certPem: material.certPem,
        ...(material.chainPem ? { chainPem: material.chainPem } : {}),
        passphrase,
        friendlyName: request.credentialId,
      }),
    });
    if (request.pfxPassphrase === undefined)
      files.push({
        name: "credential.p12.passphrase",
        secret: true,
        summary: "the PKCS#12 passphrase",
        content: `${passphrase}\n`,
      });
  }
  await refuseNonEmpty(request.dir, request.force);
  await ensureWritableDirectory("--out", request.dir, 0o700);
  for (const file of files) {
    const path = join(request.dir, file.name);
    const mode = file.secret ? 0o600 : 0o644;
    try {
      await writeFile(path, file.content, { mode });
      await chmod(path, mode); // a file replaced under --force keeps its old mode otherwise
    } catch (error) {
      throw pathNotWritable("--out", path, error);
    }
  }
  return files.map(({ name, secret, summary }) => ({ name, secret, summary }));
}
