/**
 * Creating and checking the directories certrotor writes into (the state dir, a file store's dir, an
 * --out folder), bounded and failing at once. Node's `mkdir(..., { recursive: true })` never returns
 * under /proc (each level answers ENOENT and it starts over), so the levels are made here one by one,
 * from the deepest one that exists: at most one mkdir(2) per missing level. A failure that no retry can
 * fix (read-only file system, no permission, a file where a directory should be) is PATH_NOT_WRITABLE,
 * a bad-input error, never a retryable one.
 */
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CertrotorError } from "../errors.js";

/** errno codes of a path that will not become writable by trying again. */
const PERMANENT = new Set([
  "EROFS",
  "EACCES",
  "EPERM",
  "ENOTDIR",
  "EISDIR",
  "ELOOP",
  "ENAMETOOLONG",
  "ENOENT",
]);

export function isPermanentPathError(error: unknown): boolean {
  return PERMANENT.has((error as NodeJS.ErrnoException | undefined)?.code ?? "");
}

const REASONS: Readonly<Record<string, string>> = {
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "it is a directory",
  ENOENT: "it cannot be created there",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the path is too long",
};

/** PATH_NOT_WRITABLE naming `what` (e.g. "stateDir") and the path, with the errno and what it means. */
export function pathNotWritable(what: string, path: string, error: unknown): CertrotorError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "error";
  const reason = REASONS[code] ?? "it cannot be written";
  return new CertrotorError(
    "PATH_NOT_WRITABLE",
    `${what} ${path} cannot be created or written: ${reason} (${code})`,
    {
      cause: error,
      hint: `set ${what} to a directory this process may write (its parent must exist or be creatable)`,
      details: { path, errno: code },
    },
  );
}

function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${path}`), { code, path });
}

/** Creates `dir` and any missing parents (mode for the new ones), one level at a time; throws the errno. */
export async function makeDirectory(dir: string, mode = 0o700): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const info = await stat(at).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (info) {
      if (!info.isDirectory()) throw errno("ENOTDIR", at);
      break;
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const level of missing) {
    await mkdir(level, { mode }).catch(async (error: NodeJS.ErrnoException) => {
      // another process made it meanwhile: fine, as long as it is a directory
      if (error.code !== "EEXIST" || !(await stat(level)).isDirectory()) throw error;
    });
  }
}

/** Creates `dir` when missing and checks this process may create files in it; PATH_NOT_WRITABLE if not. */
export async function ensureWritableDirectory(what: string, dir: string, mode = 0o700): Promise<void> {
  try {
    await makeDirectory(dir, mode);
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw pathNotWritable(what, dir, error);
  }
}
