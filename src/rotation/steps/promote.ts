/**
 * promote: make the verified material current with compare-and-set on the version read in plan.
 * The store keeps the old material as previous, so consumers (and a manual rollback) can find it.
 */
import type { RotationDeps, RotationState } from "../context.js";

export async function promote(deps: RotationDeps, state: RotationState): Promise<void> {
  if (state.promoted) return;
  await deps.store.promote(state.credential.ref, state.rotationId, state.current!.version);
  state.promoted = true;
}
