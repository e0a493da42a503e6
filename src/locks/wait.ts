/**
 * Taking a lock that may be busy for a moment: a parked rotation is looked at again and again (the task
 * read or a token call, under the lock, for well under a second), a task completion or an import stages
 * under it for milliseconds, and nobody should be refused with LOCKED only because such a moment was in
 * progress. LOCKED is retried with a short, growing, jittered pause until `waitMs` has passed; a holder for
 * longer (a rotation at work) is reported as LOCKED, naming it, as before.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isCertrotorError } from "../errors.js";
import type { AcquireOptions, Lease, LockManager } from "./types.js";

const FIRST_PAUSE_MS = 25;
const LONGEST_PAUSE_MS = 400;

export async function acquireWithin(
  locks: LockManager,
  key: string,
  options: AcquireOptions,
  waitMs: number,
): Promise<Lease> {
  const until = Date.now() + waitMs;
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(LONGEST_PAUSE_MS, pause * 2)) {
    try {
      return await locks.acquire(key, options);
    } catch (error) {
      const left = until - Date.now();
      if (!isCertrotorError(error, "LOCKED") || left <= 0) throw error;
      // jitter: two waiters retrying in step would meet the holder's next look together
      await sleep(Math.min(left, pause / 2 + Math.random() * pause));
    }
  }
}
