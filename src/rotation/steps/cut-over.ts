/**
 * register at a single-slot bank (maxSlots: 1, registration: api): the bank takes one active certificate,
 * so the new one can only be bound once the old one is unbound. The cut-over runs back to back inside
 * the credential's maintenance window (plan waits for it): unbind old, bind new here, then verify and
 * promote right after. From the unbind until promote made the new one current, consumers have no
 * certificate that obtains a token: invariant 1
 * is relaxed for that window only, measured (journal outageStartedAt / outageEndedAt, audit `cut-over`
 * with outageMs) and announced (cut-over events, alerted before and after). A failed verify is rolled
 * back by rebinding the old certificate (rollback.ts). A certificate certrotor does not manage in the
 * slot stops the rotation (SLOTS_FULL): never guess.
 */
import { requireSlots } from "../../bank/capabilities.js";
import { CertrotorError } from "../../errors.js";
import { emit, hookAt } from "../attempt.js";
import type { FreshPlan, RotationDeps, Staged } from "../context.js";
import { fenced } from "../fence.js";

export async function cutOver(deps: RotationDeps, planned: FreshPlan, staged: Staged): Promise<void> {
  const slots = requireSlots(deps.bank);
  const bound = await slots.listSlots(planned.clientId);
  if (bound.some((slot) => slot.fingerprint === staged.fingerprint)) return; // cut over by an earlier attempt
  const foreign = bound.filter((slot) => slot.fingerprint !== planned.oldFingerprint);
  if (foreign.length > 0) {
    throw new CertrotorError(
      "SLOTS_FULL",
      `credential "${planned.credential.id}" at single-slot bank "${planned.credential.bank}" has ${foreign[0]?.fingerprint.slice(0, 16)}… bound, which is not its current certificate; nothing was changed`,
      {
        hint: "a certificate certrotor does not manage holds the only slot: unbind it at the bank by hand, then retry",
        details: { credentialId: planned.credential.id, bound: bound.length },
      },
    );
  }
  const where = { credentialId: planned.credential.id, rotationId: planned.rotationId };
  const fingerprints = { oldFingerprint: planned.oldFingerprint, newFingerprint: staged.fingerprint };
  if (bound.length > 0) {
    // a new outage: one ended before (a rollback that rebound the old certificate, then stopped before
    // it finished, so this attempt resumes the rotation) must not make endCutOver think this one ended
    await deps.journal.update(planned.rotationId, {
      outageStartedAt: deps.now().toISOString(),
      outageEndedAt: undefined,
    });
    await emit(deps, { kind: "cut-over", phase: "started", ...where, ...fingerprints });
    await fenced(planned, () => slots.unbind(planned.clientId, planned.oldFingerprint));
    await deps.journal.audit({
      at: deps.now().toISOString(),
      ...where,
      action: "unbound",
      actor: planned.trigger,
      details: { fingerprint: planned.oldFingerprint, reason: "single-slot cut-over" },
    });
    await hookAt(deps, where, "register:unbound");
  }
  await fenced(planned, () => slots.bind(planned.clientId, staged.certPem));
}

/**
 * After promote: the outage of a cut-over ends (recorded once, announced with its length). Not at verify:
 * until promote the store's current material is the old certificate, which no longer obtains a token, so
 * consumers are still without the bank (invariant 1 stays relaxed, inside the measured window). Also run
 * by an attempt resumed after promote, whose earlier attempt stopped before the outage was recorded.
 */
export async function endCutOver(
  deps: RotationDeps,
  rotation: Pick<FreshPlan, "rotationId" | "credential" | "trigger"> & { oldFingerprint?: string },
  newFingerprint: string,
): Promise<void> {
  const record = await deps.journal.get(rotation.rotationId);
  if (!record?.outageStartedAt || record.outageEndedAt) return;
  const endedAt = deps.now();
  const outageMs = Math.max(0, endedAt.getTime() - Date.parse(record.outageStartedAt));
  const oldFingerprint = rotation.oldFingerprint ?? record.oldFingerprint ?? "";
  await deps.journal.update(rotation.rotationId, { outageEndedAt: endedAt.toISOString() });
  await deps.journal.audit({
    at: endedAt.toISOString(),
    credentialId: rotation.credential.id,
    rotationId: rotation.rotationId,
    action: "cut-over",
    actor: rotation.trigger,
    details: { fingerprint: newFingerprint, previous: oldFingerprint, outageMs },
  });
  await emit(deps, {
    kind: "cut-over",
    phase: "ended",
    credentialId: rotation.credential.id,
    rotationId: rotation.rotationId,
    oldFingerprint,
    newFingerprint,
    outageMs,
  });
}
