/**
 * Disk I/O of the file store: crash-safe replacement of one file, reading, and mapping file-system
 * errors to store error codes.
 *
 * A write goes to a temp file in the same directory (same file system, so rename is atomic), is fsynced,
 * renamed over the target, and the directory is fsynced so the rename itself survives a power cut.
 * A process killed at any point leaves either the old file or the new one, never a mix; at worst a
 * `.<name>.<host>.<pid>.<rand>.tmp` file, which listing ignores and the next store start removes.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync } from "node:fs";
import { readdir, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { CertrotorError } from "../errors.js";
import { dropTemp, fsyncDir, writeNewFile } from "../util/durable.js";
import { TEMP_SUFFIX } from "./file-names.js";
import { pidAlive } from "./file-lock.js";

/** A temp file older than this is removed at start even when its writer cannot be checked (another host). */
const ORPHAN_TEMP_MS = 24 * 3_600_000;
const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

export interface WriteHooks {
  /** Test hook: runs after the temp file is durable and before it is renamed into place. */
  beforeRename?: (tempFile: string) => Promise<void>;
}

/** A store error for a failed file-system call on `file`. */
export function fsError(storeName: string, action: string, file: string, error: unknown): CertrotorError {
  if (error instanceof CertrotorError) return error;
  const errno = error as NodeJS.ErrnoException;
  const reason = errno.code ?? "error";
  if (reason === "EACCES" || reason === "EPERM" || reason === "EROFS") {
    return new CertrotorError(
      "ACCESS_DENIED",
      `file store "${storeName}" was refused ${action} ${file}: ${reason} permission denied`,
      { cause: error, details: { store: storeName, file, errno: reason } },
    );
  }
  return new CertrotorError(
    "STORE_UNAVAILABLE",
    `file store "${storeName}" could not ${action} ${file}: ${reason}`,
    {
      cause: error,
      details: { store: storeName, file, errno: reason },
    },
  );
}

/** The bytes of `file`, or undefined when it does not exist (synchronous: one small file, see util/durable.ts). */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Replaces `dir/fileName` with `bytes` atomically. `beforeCommit` runs just before the rename (the lock
 * holder's fencing check); when it throws, the target is untouched.
 */
export async function writeAtomic(
  dir: string,
  fileName: string,
  bytes: Buffer,
  beforeCommit: () => Promise<void>,
  hooks: WriteHooks = {},
): Promise<void> {
  const temp = join(
    dir,
    `.${fileName}.${HOST_TAG}.${process.pid}.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`,
  );
  let renamed = false;
  try {
    await writeNewFile(temp, bytes);
    await hooks.beforeRename?.(temp);
    await beforeCommit();
    renameSync(temp, join(dir, fileName));
    renamed = true;
    await fsyncDir(dir);
  } finally {
    if (!renamed) dropTemp(temp);
  }
}

/** Removes temp files left by writers that died (this host) or that are older than a day (any host). */
export async function removeOrphanTemps(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(".") || !name.endsWith(TEMP_SUFFIX)) continue;
    const parts = name.slice(0, -TEMP_SUFFIX.length).split(".");
    const [host, pid] = [parts.at(-3), Number(parts.at(-2))];
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info) continue;
    const writerGone = host === HOST_TAG && Number.isInteger(pid) && !pidAlive(pid);
    if (writerGone || now - info.mtimeMs > ORPHAN_TEMP_MS) {
      await unlink(file).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}
