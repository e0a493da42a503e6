/**
 * register: bind the new certificate at the bank as the credential's second active slot (registration:
 * api); at a bank that trusts the issuing CA (none) there is nothing to bind; at a portal bank (manual) a
 * person binds it, asked by a human task (register-manual.ts).
 *
 * The bank allows 2 active certs (seed 001). If both are taken, one must be the current cert; the other
 * may be ours from an earlier attempt (reuse), a stale one we issued (unbind only if config allows), or
 * foreign (stop with SLOTS_FULL: never guess). The current cert is never unbound here, and neither is an
 * old cert still inside its grace period (a promoted rotation waiting to retire it: consumers may be on
 * it). plan runs the same check read-only, so a full credential is refused before anything is generated.
 */
import { requireSlots } from "../../bank/capabilities.js";
import type { BoundCertificate } from "../../bank/types.js";
import { CertrotorError } from "../../errors.js";
import type { FreshPlan, Registration, RotationDeps, Staged } from "../context.js";
import type { ResolvedCredential } from "../credentials.js";
import { fenced } from "../fence.js";
import { cutOver } from "./cut-over.js";
import { registerManually } from "./register-manual.js";

const SLOT_LIMIT = 2;

/** What the slot decision needs to know about the rotation asking. */
export interface SlotRequest {
  rotationId: string;
  credential: ResolvedCredential;
  /** The current certificate, never freed. */
  oldFingerprint: string;
}

interface OwnCertificates {
  /** Certificates certrotor issued or replaced for this credential. */
  own: Set<string>;
  /** Old certificates of promoted rotations waiting for their grace period (or idle consumers). */
  inGrace: Map<string, string | undefined>;
}

async function ownCertificates(deps: RotationDeps, request: SlotRequest): Promise<OwnCertificates> {
  const own = new Set<string>();
  const inGrace = new Map<string, string | undefined>();
  for (const record of await deps.journal.history(request.credential.id, 50)) {
    if (record.rotationId === request.rotationId) continue;
    if (record.newFingerprint) own.add(record.newFingerprint);
    if (record.oldFingerprint) own.add(record.oldFingerprint);
    if (record.status === "retire-due" && record.oldFingerprint)
      inGrace.set(record.oldFingerprint, record.retireDueAt);
  }
  return { own, inGrace };
}

function slotsFull(
  request: SlotRequest,
  slots: BoundCertificate[],
  why: string,
  hint: string,
): CertrotorError {
  const { credential } = request;
  return new CertrotorError(
    "SLOTS_FULL",
    `credential "${credential.id}" has ${slots.length} active certificates at bank "${credential.bank}"${why}; nothing was changed`,
    { hint, details: { credentialId: credential.id, bound: slots.length } },
  );
}

/** Which bound certs must go to make room for `newFingerprint`; SLOTS_FULL when none may. */
export async function slotsToFree(
  deps: RotationDeps,
  request: SlotRequest,
  slots: BoundCertificate[],
  newFingerprint?: string,
): Promise<BoundCertificate[]> {
  if (newFingerprint && slots.some((slot) => slot.fingerprint === newFingerprint)) return [];
  if (slots.length < SLOT_LIMIT) return [];
  const others = slots.filter((slot) => slot.fingerprint !== request.oldFingerprint);
  const { own, inGrace } = await ownCertificates(deps, request);
  const graced = others.filter((slot) => inGrace.has(slot.fingerprint));
  if (graced.length > 0) {
    const until = graced.map((slot) => inGrace.get(slot.fingerprint)).find((at) => at !== undefined);
    throw slotsFull(
      request,
      slots,
      `, including ${graced[0]?.fingerprint.slice(0, 16)}…, the previous certificate, still inside its grace period${until ? ` until ${until}` : ""}`,
      "consumers may still use it: the retire sweep (or certrotor retire-due) unbinds it once the grace period passed; rotate again after that",
    );
  }
  const replaceable = others.filter((slot) => own.has(slot.fingerprint));
  const freeable = slots.length - SLOT_LIMIT + 1;
  if (
    request.credential.policy.unbindStaleOwnCerts &&
    replaceable.length >= freeable &&
    others.length === replaceable.length
  ) {
    return replaceable.slice(0, freeable);
  }
  const foreign = others
    .filter((slot) => !own.has(slot.fingerprint))
    .map((s) => `${s.fingerprint.slice(0, 16)}…`);
  if (foreign.length > 0) {
    throw slotsFull(
      request,
      slots,
      `, including ${foreign.join(", ")} which certrotor does not manage`,
      "a certificate certrotor does not manage holds a slot: unbind it at the bank by hand, then retry",
    );
  }
  throw slotsFull(
    request,
    slots,
    ", stale ones certrotor issued",
    "set renewal.unbindStaleOwnCerts: true (or rotate --force) to let certrotor free slots held by its own stale certs",
  );
}

export async function register(
  deps: RotationDeps,
  planned: FreshPlan,
  staged: Staged,
): Promise<Registration> {
  const registration = deps.bankProfile?.registration ?? "api";
  if (registration === "none") return { how: "trusted" };
  if (registration === "manual") return registerManually(deps, planned, staged);
  if (deps.bankProfile?.maxSlots === 1) await cutOver(deps, planned, staged);
  else await registerByApi(deps, planned, staged);
  return { how: "bound" };
}

async function registerByApi(deps: RotationDeps, planned: FreshPlan, staged: Staged): Promise<void> {
  const slots = await requireSlots(deps.bank).listSlots(planned.clientId);
  if (slots.some((slot) => slot.fingerprint === staged.fingerprint)) return; // bound by an earlier attempt
  for (const slot of await slotsToFree(deps, planned, slots, staged.fingerprint)) {
    await fenced(planned, () => requireSlots(deps.bank).unbind(planned.clientId, slot.fingerprint));
    await deps.journal.audit({
      at: deps.now().toISOString(),
      credentialId: planned.credential.id,
      rotationId: planned.rotationId,
      action: "unbound",
      actor: planned.trigger,
      details: { fingerprint: slot.fingerprint, reason: "stale own certificate freed a slot" },
    });
  }
  await fenced(planned, () => requireSlots(deps.bank).bind(planned.clientId, staged.certPem));
}
