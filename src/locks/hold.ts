/**
 * A lock taken and kept alive while its holder works: the lease is renewed every third of its length, so
 * a long piece of work does not lose it, and a crashed holder's lease runs out quickly so another worker
 * can take over. A failed renewal is not thrown here: it surfaces as LOCK_LOST at the holder's next
 * `lease.check()`.
 */
import type { AcquireOptions, Lease, LockManager } from "./types.js";
import { acquireWithin } from "./wait.js";

export interface KeptLock {
  readonly lease: Lease;
  /** Stops renewing and frees the lock (a lost lease is left alone). */
  release(): Promise<void>;
}

/** `waitMs`: how long a busy lock is waited for before LOCKED (locks/wait.ts); 0 refuses at once. */
export async function holdLock(
  locks: LockManager,
  key: string,
  options: AcquireOptions,
  waitMs = 0,
): Promise<KeptLock> {
  const lease =
    waitMs > 0 ? await acquireWithin(locks, key, options, waitMs) : await locks.acquire(key, options);
  const timer = setInterval(
    () => void lease.renew().catch(() => undefined),
    Math.max(250, Math.floor(options.ttlMs / 3)),
  );
  timer.unref();
  return {
    lease,
    async release() {
      clearInterval(timer);
      await lease.release().catch(() => undefined);
    },
  };
}
