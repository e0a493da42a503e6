/**
 * The per-credential rotation lock (invariant 5), kept alive while the holder works: the lease is renewed
 * every third of its length, so a long step does not lose it, and a crashed holder's lease runs out
 * quickly so another worker can resume the rotation.
 */
import type { HeldLock, RotationDeps } from "./context.js";

export const DEFAULT_ROTATION_LEASE_MS = 60_000;

export async function acquireRotationLock(deps: RotationDeps, credentialId: string): Promise<HeldLock> {
  const ttlMs = deps.lockTtlMs ?? DEFAULT_ROTATION_LEASE_MS;
  const lease = await deps.locks.acquire(`rotation:${credentialId}`, {
    ttlMs,
    owner: deps.owner ?? `pid-${process.pid}`,
  });
  const timer = setInterval(
    () => {
      // a failed renewal surfaces as LOCK_LOST at the next step's check; nothing to do here
      lease.renew().catch(() => undefined);
    },
    Math.max(250, Math.floor(ttlMs / 3)),
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
