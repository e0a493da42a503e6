/**
 * File primitives of the local state directory (file journal, file locks), for several processes on one
 * host sharing it:
 * - names: any key becomes a safe file name (bytes outside [A-Za-z0-9_-] become %XX, so `/`, `.` and
 *   `..` never reach the file system as themselves);
 * - createExclusive: write a temp file, then link(2) it into place — the file appears complete or not at
 *   all, and only one creator wins (O_EXCL semantics without a window where it exists but is empty);
 * - replaceAtomic: temp + rename, so a reader sees the old or the new content, never a mix;
 * - durability: createExclusive and replaceAtomic fsync the temp file before it takes its name unless the
 *   caller passes `{ durable: false }`: a file that only has to be whole to a reader on this host (a
 *   lease, a fencing counter) needs no fsync, since link and rename are atomic for readers without it;
 *   what fsync adds is surviving a power loss, which a lease of a process that power loss killed need
 *   not (docs/internals/journal-and-locks.md, "What is fsynced");
 * - appendLine: one write(2) with O_APPEND, which Linux performs as a single atomic seek-and-write on a
 *   local file system, so lines of concurrent writers never interleave;
 * - every call but fsync is synchronous: small local files touched many times per rotation (leases,
 *   fences, journal lines), where the promise API's open/fstat/read/write/close/link/rename, each a hop
 *   through the thread pool, cost far more than the I/O itself (a page-cache read or write of a few
 *   hundred bytes); the fsync, which waits for the disk, still runs in the pool (util/durable.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { CertrotorError } from "../errors.js";
import { isPermanentPathError, makeDirectory, pathNotWritable } from "../util/dirs.js";
import { dropTemp, writeNewFile } from "../util/durable.js";

const MAX_NAME = 180;

/** A file-name stem for `key`: reversible for short keys, hashed-suffix for very long ones. */
export function safeName(key: string): string {
  let out = "";
  for (const byte of Buffer.from(key, "utf8")) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (out.length <= MAX_NAME) return out;
  const digest = createHash("sha256").update(key).digest("hex").slice(0, 32);
  return `${out.slice(0, MAX_NAME - 33)}~${digest}`;
}

/**
 * STATE_UNAVAILABLE for a failed file-system call, naming the action and file (never file contents);
 * PATH_NOT_WRITABLE (not retried) when the failure is permanent (read-only file system, permission).
 */
export function stateError(action: string, file: string, error: unknown): CertrotorError {
  if (error instanceof CertrotorError) return error;
  if (isPermanentPathError(error) && (error as NodeJS.ErrnoException).code !== "ENOENT")
    return pathNotWritable("state dir: file", file, error);
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return new CertrotorError("STATE_UNAVAILABLE", `state dir: could not ${action} ${file}: ${code}`, {
    cause: error,
    details: { file, errno: code },
  });
}

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export async function ensureDir(dir: string): Promise<void> {
  try {
    await makeDirectory(dir, 0o700);
  } catch (error) {
    if (isPermanentPathError(error)) throw pathNotWritable("state dir: directory", dir, error);
    throw stateError("create directory", dir, error);
  }
}

/** A unique temp path beside `file` (same directory, so link and rename stay on one file system). */
export function tempBeside(file: string): string {
  return `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
}

export interface WriteOptions {
  /** fsync the content before it takes its name (default true); see the module comment. */
  durable?: boolean;
}

/**
 * The text of `file`, or undefined when it does not exist. Read synchronously: these are small local files
 * (a lease, a fencing counter, one rotation's record) read many times per rotation, where the promise
 * API's open, fstat, read and close, each a hop through the thread pool, cost far more than the read.
 */
export async function readText(file: string): Promise<string | undefined> {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw stateError("read", file, error);
  }
}

/** Creates `file` holding `text` unless it exists; true when this call created it. */
export async function createExclusive(
  file: string,
  text: string,
  { durable = true }: WriteOptions = {},
): Promise<boolean> {
  const temp = tempBeside(file);
  try {
    await writeNewFile(temp, text, { durable });
    linkSync(temp, file);
    return true;
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return false;
    throw stateError("create", file, error);
  } finally {
    dropTemp(temp);
  }
}

/** Replaces (or creates) `file` with `text` atomically. */
export async function replaceAtomic(
  file: string,
  text: string,
  { durable = true }: WriteOptions = {},
): Promise<void> {
  const temp = tempBeside(file);
  try {
    await writeNewFile(temp, text, { durable });
    renameSync(temp, file);
  } catch (error) {
    dropTemp(temp);
    throw stateError("write", file, error);
  }
}

/** Which file an append went to and how long the file was right after it. */
export interface AppendedAt {
  ino: number;
  size: number;
}

/**
 * Appends one line (a trailing newline is added) with a single O_APPEND write. With `create: false` the
 * file must already exist (undefined is returned when it does not), so an append never resurrects a file
 * that was pruned. Answers the file's inode and size right after the write (an fstat of the same fd): a
 * reader that had consumed the file up to `size` minus this line knows nobody else wrote since.
 */
export async function appendLine(file: string, line: string, create = true): Promise<AppendedAt | undefined> {
  const flags = constants.O_WRONLY | constants.O_APPEND | (create ? constants.O_CREAT : 0);
  let fd: number | undefined;
  try {
    // synchronous, as readText: one small write to the page cache, where the promise API's open, write
    // and close would each hop through the thread pool; writeSync is still the single write(2)
    fd = openSync(file, flags, 0o600);
    writeSync(fd, `${line}\n`);
    const { ino, size } = fstatSync(fd);
    return { ino, size };
  } catch (error) {
    if (!create && errnoOf(error) === "ENOENT") return undefined;
    throw stateError("append to", file, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes `file`; absent is success. */
export async function removeFile(file: string): Promise<void> {
  try {
    unlinkSync(file);
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw stateError("remove", file, error);
  }
}
