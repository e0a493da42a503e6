/**
 * register: bind the new certificate at the bank as the credential's second active slot.
 * The bank allows 2 active certs (seed 001). If both are taken, one must be the current cert; the other
 * may be ours from an earlier attempt (reuse), a stale one we issued (unbind only if config allows), or
 * foreign (stop with SLOTS_FULL: never guess). The current cert is never unbound here.
 */
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

export async function register(deps: RotationDeps, state: RotationState): Promise<void> {
  if (state.promoted) return;
  const staged = state.staged!;
  const { clientId, credential } = state;
  const slots = await deps.bank.listSlots(clientId);
  if (slots.some((slot) => slot.fingerprint === staged.fingerprint)) return; // bound by an earlier attempt

  if (slots.length >= SLOT_LIMIT) {
    const current = state.oldFingerprint;
    const others = slots.filter((slot) => slot.fingerprint !== current);
    const own = await ownFingerprints(deps, state);
    const replaceable = others.filter((slot) => own.has(slot.fingerprint));
    const freeable = slots.length - SLOT_LIMIT + 1;
    if (!credential.policy.unbindStaleOwnCerts || replaceable.length < freeable || others.length > replaceable.length) {
      const foreign = others.filter((slot) => !own.has(slot.fingerprint)).map((slot) => slot.fingerprint.slice(0, 16));
      throw new CertrotorError(
        "SLOTS_FULL",
        `credential "${credential.id}" has ${slots.length} active certificates at bank "${credential.bank}"` +
          (foreign.length ? ` including foreign ${foreign.join(", ")}…` : " (stale ones certrotor issued)") +
          "; nothing was changed",
        {
          hint: foreign.length
            ? "a certificate certrotor does not manage holds a slot: unbind it at the bank by hand, then retry"
            : "set renewal.unbindStaleOwnCerts: true to let certrotor free slots held by its own stale certs, or run retire-due",
          details: { credentialId: credential.id, bound: slots.length },
        },
      );
    }
    for (const slot of replaceable.slice(0, freeable)) {
      await deps.bank.unbind(clientId, slot.fingerprint);
      await deps.journal.audit({
        at: deps.now().toISOString(),
        credentialId: credential.id,
        rotationId: state.rotationId,
        action: "unbound",
        actor: state.trigger,
        details: { fingerprint: slot.fingerprint, reason: "stale own certificate freed a slot" },
      });
    }
  }
  await deps.bank.bind(clientId, staged.certPem);
}
