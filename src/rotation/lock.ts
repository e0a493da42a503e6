/**
 * The per-credential rotation lock (invariant 5), kept alive while the holder works (locks/hold.ts), so a
 * long step does not lose it and a crashed holder's lease runs out quickly for another worker to resume.
 */
import { holdLock } from "../locks/hold.js";
import type { HeldLock, RotationDeps } from "./context.js";

export const DEFAULT_ROTATION_LEASE_MS = 60_000;

/**
 * How long an operator's command or console action (task complete, import, rollback) waits for a busy
 * rotation lock (locks/wait.ts): a worker's look at a parked rotation holds it for milliseconds, and a
 * person should not be refused only because a look was in progress; each of them re-checks what it
 * changes under the lock. A rotation attempt never waits: a second rotation that waited for the first to
 * finish would rotate again, so it is refused with LOCKED at once (a job looks again later).
 */
export const OPERATOR_LOCK_WAIT_MS = 10_000;

export function acquireRotationLock(deps: RotationDeps, credentialId: string, waitMs = 0): Promise<HeldLock> {
  return holdLock(
    deps.locks,
    `rotation:${credentialId}`,
    { ttlMs: deps.lockTtlMs ?? DEFAULT_ROTATION_LEASE_MS, owner: deps.owner ?? `pid-${process.pid}` },
    waitMs,
  );
}
