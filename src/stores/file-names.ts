/**
 * How a credential path becomes a file name in the file store's directory, and back. The encoding is
 * reversible (so `list` can page over paths without opening files) and can never name anything outside
 * the directory: every byte outside [A-Za-z0-9_-] becomes %XX, so `/`, `.` and `\` never reach the
 * file system as themselves.
 */
import { CertrotorError } from "../errors.js";
import { assertSecretPath } from "../util/secret-path.js";

/** Suffix of a credential document. Lock and temp files use other suffixes, so listing skips them. */
export const DOC_SUFFIX = ".json";
export const LOCK_SUFFIX = ".lock";
export const TEMP_SUFFIX = ".tmp";

// File names are limited to 255 bytes on common file systems; leave room for the temp-file decorations.
const MAX_ENCODED = 200;
const ENCODED = /^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/;

function rejectPath(path: string, why: string): never {
  throw new CertrotorError("BAD_ARGUMENT", `file-store path "${path}" is not allowed: ${why}`, {
    details: { path },
  });
}

/** Throws BAD_ARGUMENT when `path` cannot name a credential (the shared check of util/secret-path.ts). */
export function assertValidPath(path: string): void {
  assertSecretPath(path, "file-store");
}

// encodeURIComponent leaves these unescaped too; the store escapes them so "." never reaches a file name.
const URI_EXTRA = /[.!~*'()]/g;

/** The file-name stem of `path` (without suffix). */
export function encodePath(path: string): string {
  assertValidPath(path);
  let out: string;
  try {
    out = encodeURIComponent(path).replace(
      URI_EXTRA,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    rejectPath(path, "it is not valid Unicode"); // a lone surrogate: URIError
  }
  if (out.length > MAX_ENCODED)
    rejectPath(path, `its encoded file name is longer than ${MAX_ENCODED} characters`);
  return out;
}

/** The path a document file name stands for, or undefined for names the store did not write. */
export function decodeFileName(fileName: string): string | undefined {
  if (!fileName.endsWith(DOC_SUFFIX)) return undefined;
  const stem = fileName.slice(0, -DOC_SUFFIX.length);
  if (!ENCODED.test(stem)) return undefined;
  // Only canonical encodings count, so one path has exactly one file (no "a" vs "%61" twins); names that
  // are not valid UTF-8 or not a valid path are foreign files, not credentials.
  try {
    const path = decodeURIComponent(stem);
    return encodePath(path) === stem ? path : undefined;
  } catch {
    return undefined;
  }
}
