/**
 * promote: make the verified material current with compare-and-set on the version read in plan.
 * The store keeps the old material as previous, so consumers (and a manual rollback) can find it.
 */
import type { FreshPlan, RotationDeps } from "../context.js";
import { fenced } from "../fence.js";

export async function promote(deps: RotationDeps, planned: FreshPlan): Promise<void> {
  await fenced(planned, () =>
    deps.store.promote(planned.credential.ref, planned.rotationId, planned.current.version),
  );
}
