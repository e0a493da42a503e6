/**
 * A MaterialSource on plain PEM files (e.g. what `certrotor agent` writes, or any tool's output). The probe
 * is the files' identity (inode, size, mtime in ns): a writer that renames files into place, or rewrites
 * them, changes it. The version is a hash of the contents, so rewriting the same files is no change.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { CertrotorError } from "../errors.js";
import { certFingerprint, certNotAfter } from "./material-check.js";
import type { MaterialSource } from "./source.js";

export interface FileSourceOptions {
  /** Leaf certificate (PEM); a chain after the leaf in the same file is kept as chainPem. */
  certFile: string;
  /** Private key (PKCS#8 or PKCS#1 PEM, unencrypted). */
  keyFile: string;
  /** Issuer chain (PEM), when it is not in certFile. */
  chainFile?: string;
}

function fileError(file: string, error: unknown): CertrotorError {
  const errno = (error as NodeJS.ErrnoException).code ?? "error";
  const details = { file, errno };
  if (errno === "ENOENT") {
    return new CertrotorError("NOT_FOUND", `certrotor/client: ${file} does not exist`, {
      cause: error,
      details,
    });
  }
  if (errno === "EACCES" || errno === "EPERM") {
    return new CertrotorError("ACCESS_DENIED", `certrotor/client: ${file} cannot be read: ${errno}`, {
      cause: error,
      details,
    });
  }
  return new CertrotorError("STORE_UNAVAILABLE", `certrotor/client: ${file} cannot be read: ${errno}`, {
    cause: error,
    details,
  });
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function openFileSource(options: FileSourceOptions): MaterialSource {
  const files = [options.certFile, options.keyFile, ...(options.chainFile ? [options.chainFile] : [])];
  const label = `files ${options.certFile} and ${options.keyFile}`;
  const read = (file: string) =>
    readFile(file, "utf8").catch((error: unknown) => {
      throw fileError(file, error);
    });

  return {
    label,
    async probe() {
      const parts = await Promise.all(
        files.map(async (file) => {
          const info = await stat(file, { bigint: true }).catch((error: unknown) => {
            throw fileError(file, error);
          });
          return `${info.ino}:${info.size}:${info.mtimeNs}`;
        }),
      );
      return parts.join("/");
    },
    async read() {
      const [certText, keyPem, chainText] = await Promise.all(files.map(read));
      const blocks = certText!.match(PEM_BLOCK) ?? [];
      const certPem = blocks[0] ? `${blocks[0]}\n` : certText!;
      const chainBlocks = [...blocks.slice(1), ...(chainText?.match(PEM_BLOCK) ?? [])];
      const fingerprint = certFingerprint(certPem, options.certFile);
      const version = createHash("sha256")
        .update(certText!)
        .update("\0")
        .update(keyPem!)
        .update("\0")
        .update(chainText ?? "")
        .digest("hex")
        .slice(0, 32);
      return {
        version,
        material: {
          clientId: "",
          certPem,
          keyPem: keyPem!,
          ...(chainBlocks.length > 0 ? { chainPem: `${chainBlocks.join("\n")}\n` } : {}),
          fingerprint,
          notAfter: certNotAfter(certPem, options.certFile),
        },
      };
    },
    async close() {},
  };
}
