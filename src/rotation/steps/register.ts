/**
 * register: bind the new certificate at the bank as the credential's second active slot.
 * The bank allows 2 active certs (seed 001). If both are taken, one must be the current cert; the other
 * may be ours from an earlier attempt (reuse), a stale one we issued (unbind only if config allows), or
 * foreign (stop with SLOTS_FULL: never guess). The current cert is never unbound here.
 * plan runs the same check read-only, so a full credential is refused before anything is generated.
 */
import type { BoundCertificate } from "../../bank/types.js";
import { CertrotorError } from "../../errors.js";
import type { RotationDeps, RotationState } from "../context.js";

const SLOT_LIMIT = 2;

async function ownFingerprints(deps: RotationDeps, state: RotationState): Promise<Set<string>> {
  const own = new Set(state.staleOwnFingerprints);
  for (const record of await deps.journal.history(state.credential.id, 50)) {
    if (record.rotationId === state.rotationId) continue;
    if (record.newFingerprint) own.add(record.newFingerprint);
    if (record.oldFingerprint) own.add(record.oldFingerprint);
  }
  return own;
}

/** Which bound certs must go to make room for `newFingerprint`; SLOTS_FULL when none may. */
export async function slotsToFree(
  deps: RotationDeps,
  state: RotationState,
  slots: BoundCertificate[],
  newFingerprint?: string,
): Promise<BoundCertificate[]> {
  if (newFingerprint && slots.some((slot) => slot.fingerprint === newFingerprint)) return [];
  if (slots.length < SLOT_LIMIT) return [];
  const { credential } = state;
  const others = slots.filter((slot) => slot.fingerprint !== state.oldFingerprint);
  const own = await ownFingerprints(deps, state);
  const replaceable = others.filter((slot) => own.has(slot.fingerprint));
  const freeable = slots.length - SLOT_LIMIT + 1;
  if (
    credential.policy.unbindStaleOwnCerts &&
    replaceable.length >= freeable &&
    others.length === replaceable.length
  ) {
    return replaceable.slice(0, freeable);
  }
  const foreign = others
    .filter((slot) => !own.has(slot.fingerprint))
    .map((slot) => `${slot.fingerprint.slice(0, 16)}…`);
  throw new CertrotorError(
    "SLOTS_FULL",
    `credential "${credential.id}" has ${slots.length} active certificates at bank "${credential.bank}"` +
      (foreign.length
        ? `, including ${foreign.join(", ")} which certrotor does not manage`
        : ", stale ones certrotor issued") +
      "; nothing was changed",
    {
      hint: foreign.length
        ? "a certificate certrotor does not manage holds a slot: unbind it at the bank by hand, then retry"
        : "set renewal.unbindStaleOwnCerts: true (or rotate --force) to let certrotor free slots held by its own stale certs, or run retire-due",
      details: { credentialId: credential.id, bound: slots.length },
    },
  );
}

export async function register(deps: RotationDeps, state: RotationState): Promise<void> {
  if (state.promoted) return;
  const staged = state.staged!;
  const slots = await deps.bank.listSlots(state.clientId);
  if (slots.some((slot) => slot.fingerprint === staged.fingerprint)) return; // bound by an earlier attempt
  for (const slot of await slotsToFree(deps, state, slots, staged.fingerprint)) {
    await deps.bank.unbind(state.clientId, slot.fingerprint);
    await deps.journal.audit({
      at: deps.now().toISOString(),
      credentialId: state.credential.id,
      rotationId: state.rotationId,
      action: "unbound",
      actor: state.trigger,
      details: { fingerprint: slot.fingerprint, reason: "stale own certificate freed a slot" },
    });
  }
  await deps.bank.bind(state.clientId, staged.certPem);
}
