/**
 * An advisory lock file per credential, so two processes sharing a file-store directory cannot
 * interleave a promote or a pending write.
 *
 * - Taken by creating `<name>.lock` with O_EXCL (`wx`); it records pid, host, a random token and a lease
 *   expiry.
 * - A lock is stale when its lease expired, or when it was taken on this host by a pid that no longer
 *   exists (a crashed worker). Stale locks are broken under a second O_EXCL file (`.lock.break`), so two
 *   waiters cannot both break the same lock and then both take the next one.
 * - Before committing (rename), the holder checks the file still holds its token (LOCK_LOST otherwise),
 *   which fences a holder that stalled past its lease.
 * - Waiting: the waiter watches the lock file (inotify via fs.watch) so a release wakes it at once; it
 *   also re-checks every POLL_MS, because a holder's death or lease expiry produces no file event and
 *   fs.watch is not delivered on network file systems. The wait is bounded by `timeoutMs`.
 */
import { randomBytes } from "node:crypto";
import { watch } from "node:fs";
import { readFileSync, statSync, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import { CertrotorError } from "../errors.js";
import { writeNewFile } from "../util/durable.js";

const POLL_MS = 50;
const BREAK_LEASE_MS = 5_000;

export interface LockOptions {
  /** Give up waiting after this long (STORE_UNAVAILABLE, retryable). */
  timeoutMs: number;
  /** A holder's lock counts as stale this long after it was taken. */
  leaseMs: number;
}

export interface HeldLock {
  /** Throws LOCK_LOST when the lock file no longer holds this holder's token. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
  token: string;
  expiresAt: number;
}

interface Observed {
  raw: string;
  holder: Holder | undefined;
  mtimeMs: number;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? "");
}

async function tryCreate(file: string, leaseMs: number): Promise<string | undefined> {
  const holder: Holder = {
    pid: process.pid,
    host: hostname(),
    token: randomBytes(12).toString("hex"),
    expiresAt: Date.now() + leaseMs,
  };
  const raw = JSON.stringify(holder);
  try {
    await writeNewFile(file, raw, { durable: false }); // a lease needs no fsync
    return raw;
  } catch (error) {
    if (isErrno(error, "EEXIST")) return undefined;
    throw error;
  }
}

async function observe(file: string): Promise<Observed | undefined> {
  try {
    const raw = readFileSync(file, "utf8");
    const info = statSync(file);
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(raw) as Holder;
    } catch {
      holder = undefined; // created but not yet written by its holder: judged by mtime below
    }
    return { raw, holder, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

function isStale(seen: Observed, leaseMs: number, now: number): boolean {
  const { holder } = seen;
  if (!holder || typeof holder.expiresAt !== "number") return seen.mtimeMs + leaseMs < now;
  if (holder.expiresAt < now) return true;
  return holder.host === hostname() && !pidAlive(holder.pid);
}

async function removeIf(file: string, raw: string): Promise<void> {
  const seen = await observe(file);
  if (seen?.raw !== raw) return;
  try {
    unlinkSync(file);
  } catch (error) {
    if (!isErrno(error, "ENOENT")) throw error;
  }
}

/** Removes the stale lock `seen`; false when another waiter is breaking it right now. */
async function breakStale(file: string, seen: Observed): Promise<boolean> {
  const breaker = `${file}.break`;
  const mine = await tryCreate(breaker, BREAK_LEASE_MS);
  if (mine === undefined) {
    const other = await observe(breaker);
    if (!other) return true;
    if (!isStale(other, BREAK_LEASE_MS, Date.now())) return false;
    await removeIf(breaker, other.raw);
    return true;
  }
  try {
    await removeIf(file, seen.raw);
  } finally {
    await removeIf(breaker, mine);
  }
  return true;
}

/** Resolves when `file` changes or disappears, or after `ms`. */
function changeOrTimeout(file: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const done = (): void => {
      clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = setTimeout(done, ms);
    try {
      watcher = watch(file, { persistent: false }, done);
      watcher.on("error", done);
    } catch {
      done(); // the file vanished before the watch started: the caller retries at once
    }
  });
}

function timeoutError(file: string, seen: Observed | undefined, timeoutMs: number): CertrotorError {
  const who = seen?.holder ? `pid ${seen.holder.pid} on ${seen.holder.host}` : "another process";
  return new CertrotorError(
    "STORE_UNAVAILABLE",
    `file-store lock ${file} is held by ${who}; gave up after ${timeoutMs} ms`,
    { details: { lockFile: file, timeoutMs } },
  );
}

export async function acquireFileLock(file: string, options: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const raw = await tryCreate(file, options.leaseMs);
    if (raw !== undefined) return heldLock(file, raw);
    const seen = await observe(file);
    if (!seen) continue;
    const now = Date.now();
    if (isStale(seen, options.leaseMs, now) && (await breakStale(file, seen))) continue;
    if (now >= deadline) throw timeoutError(file, seen, options.timeoutMs);
    await changeOrTimeout(file, Math.min(POLL_MS, deadline - now));
  }
}

function heldLock(file: string, raw: string): HeldLock {
  return {
    async assertHeld() {
      const seen = await observe(file);
      if (seen?.raw !== raw) {
        throw new CertrotorError("LOCK_LOST", `file-store lock ${file} was taken over (lease expired)`, {
          details: { lockFile: file },
        });
      }
    },
    release: () => removeIf(file, raw),
  };
}
