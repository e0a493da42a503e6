/**
 * Lease locks as files, for `--inline` and `demo` runs without Redis: several processes on one host.
 *
 * Files in `dir`, per lock key K (name-encoded by safeName):
 * - `K.lock`  JSON { owner, token, nonce, pid, host, expiresAt }; created exclusively (temp + link, so it
 *             is complete the moment it exists), rewritten by its holder with temp + rename.
 * - `K.fence` the last fencing token, written with temp + rename by the holder right after it wins the
 *             lock file; since only a holder writes it, tokens strictly increase.
 *
 * A lock file is stale when its lease expired, or when it was taken on this host by a pid that is gone
 * (a crashed run), and only then taken over: the taker renames it aside, checks that what it moved is
 * the stale file it judged (else it puts it back and reports LOCKED), and competes for a fresh link.
 * Release and takeover both move the file aside before deciding, so nobody ever deletes a lock file it
 * has not just verified. Every acquire ends by re-reading its lock and fence: a lease is handed out only
 * when both still say ours.
 */
import { randomUUID } from "node:crypto";
import { linkSync, renameSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  createExclusive,
  ensureDir,
  errnoOf,
  readText,
  removeFile,
  replaceAtomic,
  safeName,
  stateError,
  tempBeside,
} from "../state/files.js";
import { createLease, type LeaseState, lockedError } from "./lease.js";
import type { AcquireOptions, Lease, LockManager } from "./types.js";

export interface FileLockOptions {
  /** Clock for lease expiry (all processes on the host share the wall clock by default). */
  now?: () => number;
}

interface LockFile {
  owner: string;
  token: number;
  nonce: string;
  pid: number;
  host: string;
  expiresAt: number;
}

const TAKEOVER_TRIES = 3;
/**
 * Lock and fence files are written whole (temp + link/rename) but not fsynced. They guard processes that
 * are alive on this host; a power loss kills every one of them, so no lease and no token handed out
 * before it can act after it. A lock file lost or stale after the reboot is free or taken over (its pid
 * is gone); a fence file that went back to an older token hands out tokens no living holder carries, and
 * tokens are compared only with these files, never stored elsewhere. So fsync would buy nothing here.
 */
const LEASE_WRITE = { durable: false } as const;
const HOST = hostname();

function parseLock(text: string | undefined): LockFile | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as LockFile;
    return typeof value.nonce === "string" && typeof value.expiresAt === "number" ? value : undefined;
  } catch {
    return undefined; // unreadable: treated as stale below, so a corrupt file cannot block a credential
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) === "EPERM"; // exists, owned by another user
  }
}

function isStale(lock: LockFile | undefined, now: number): boolean {
  if (!lock) return true;
  if (lock.expiresAt <= now) return true;
  return lock.host === HOST && !pidAlive(lock.pid);
}

/**
 * Moves `file` aside and keeps it removed only if it still holds `expected` (raw text); otherwise puts it
 * back. True when the expected file was removed.
 */
async function removeIfUnchanged(file: string, expected: string): Promise<boolean> {
  const aside = tempBeside(file);
  try {
    renameSync(file, aside);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw stateError("move aside", file, error);
  }
  const moved = await readText(aside);
  if (moved === expected) {
    await removeFile(aside);
    return true;
  }
  // Not what we judged: someone else's fresh lock. Put it back; if another link won meanwhile, that
  // holder's successor check fails and it sees LOCK_LOST, never two holders passing check().
  try {
    linkSync(aside, file);
  } catch {
    // another lock took the name meanwhile: it stays, ours is dropped below
  }
  await removeFile(aside);
  return false;
}

export interface FileLockManager extends LockManager {
  leaseState(fence: { key: string; token: number }): Promise<LeaseState>;
}

export function createFileLockManager(dir: string, options: FileLockOptions = {}): FileLockManager {
  const now = options.now ?? Date.now;
  const paths = (key: string): { lock: string; fence: string } => {
    const stem = join(dir, safeName(key));
    return { lock: `${stem}.lock`, fence: `${stem}.fence` };
  };
  const readFence = async (file: string): Promise<number> => Number((await readText(file)) ?? "0") || 0;

  async function stateOf(key: string, nonce: string, token: number): Promise<LeaseState> {
    const { lock, fence } = paths(key);
    const current = parseLock(await readText(lock));
    if (!current || current.nonce !== nonce || current.token !== token || current.expiresAt <= now())
      return "lost";
    return (await readFence(fence)) === token ? "held" : "superseded";
  }

  /** Wins the lock file (exclusive link), taking over a stale one; LOCKED when a live holder has it. */
  async function win(key: string, content: LockFile): Promise<void> {
    const { lock } = paths(key);
    for (let attempt = 0; attempt < TAKEOVER_TRIES; attempt++) {
      if (await createExclusive(lock, JSON.stringify(content), LEASE_WRITE)) return;
      const raw = await readText(lock);
      if (raw === undefined) continue; // released between our link and our read: try again
      const holder = parseLock(raw);
      if (!isStale(holder, now())) throw lockedError(key, holder!.owner, holder!.expiresAt - now());
      if (!(await removeIfUnchanged(lock, raw))) {
        const fresh = parseLock(await readText(lock));
        throw lockedError(
          key,
          fresh?.owner ?? "another process",
          fresh ? fresh.expiresAt - now() : undefined,
        );
      }
    }
    throw lockedError(key, "another process", undefined);
  }

  async function acquire(key: string, { ttlMs, owner }: AcquireOptions): Promise<Lease> {
    await ensureDir(dir);
    const { lock, fence } = paths(key);
    const content: LockFile = {
      owner,
      token: 0,
      nonce: randomUUID(),
      pid: process.pid,
      host: HOST,
      expiresAt: now() + ttlMs,
    };
    await win(key, content);
    // We hold the lock file, so no one else writes the fence now.
    content.token = (await readFence(fence)) + 1;
    await replaceAtomic(fence, String(content.token), LEASE_WRITE);
    await replaceAtomic(lock, JSON.stringify(content), LEASE_WRITE);
    const state = await stateOf(key, content.nonce, content.token);
    if (state !== "held") throw lockedError(key, "another process", undefined);
    return createLease(
      { key, owner, token: content.token, ttlMs, now },
      {
        renew: async (ttl) => {
          const found = await stateOf(key, content.nonce, content.token);
          if (found !== "held") return found;
          content.expiresAt = now() + ttl;
          await replaceAtomic(lock, JSON.stringify(content), LEASE_WRITE);
          return "held";
        },
        release: async () => {
          const raw = await readText(lock);
          if (parseLock(raw)?.nonce === content.nonce) await removeIfUnchanged(lock, raw!);
        },
        check: () => stateOf(key, content.nonce, content.token),
      },
    );
  }

  /** Whether lock `key` is held under `token` right now (fenced journal writes ask this). */
  async function leaseState(fence: { key: string; token: number }): Promise<LeaseState> {
    const { lock, fence: fenceFile } = paths(fence.key);
    const current = parseLock(await readText(lock));
    if (!current || current.token !== fence.token || current.expiresAt <= now()) return "lost";
    return (await readFence(fenceFile)) === fence.token ? "held" : "superseded";
  }

  return { acquire, leaseState, close: async () => undefined };
}
