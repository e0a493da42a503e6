/**
 * The per-credential rotation lock (invariant 5), kept alive while the holder works (locks/hold.ts), so a
 * long step does not lose it and a crashed holder's lease runs out quickly for another worker to resume.
 */
import { holdLock } from "../locks/hold.js";
import type { HeldLock, RotationDeps } from "./context.js";

export const DEFAULT_ROTATION_LEASE_MS = 60_000;

export function acquireRotationLock(deps: RotationDeps, credentialId: string): Promise<HeldLock> {
  return holdLock(deps.locks, `rotation:${credentialId}`, {
    ttlMs: deps.lockTtlMs ?? DEFAULT_ROTATION_LEASE_MS,
    owner: deps.owner ?? `pid-${process.pid}`,
  });
}
