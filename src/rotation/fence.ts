/**
 * Invariant 5 at each external effect: the lease and its fencing token are checked immediately before
 * the effect (issue, stage, bind, unbind, verify, promote, an alert), so a process that stalled past its
 * lease and woke up stops with LOCK_LOST instead of acting. The journal's writes are fenced inside the
 * write itself (journal/types.ts Fence).
 */
import type { HeldLock } from "./context.js";

export async function fenced<T>(holder: { lock: HeldLock }, effect: () => Promise<T>): Promise<T> {
  await holder.lock.lease.check();
  return effect();
}
