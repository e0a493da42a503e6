/**
 * plan: with the per-credential lock held, read the current material, check it is usable (key ↔ cert,
 * the client_id the config names, a client secret to verify with), look for pending material (ours from
 * an interrupted attempt, or a leftover), and decide whether to rotate at all. Read-only but for two
 * repairs, each fenced: finishing an interrupted promote, and rolling back a dead rotation's leftover.
 */
import { requireSlots } from "../../bank/capabilities.js";
import { assertKeyMatchesCertificate, inspectCertificate } from "../../crypto/index.js";
import { CertrotorError } from "../../errors.js";
import { readCurrentAndPending, type StoredMaterial } from "../../stores/types.js";
import type { HeldLock, Planned, RotationBase, RotationDeps, RotationOutcome, Trigger } from "../context.js";
import type { ResolvedCredential } from "../credentials.js";
import { fenced } from "../fence.js";
import { decideRenewal } from "../policy.js";
import { undoRotation } from "../rollback.js";
import { inWindow, nextWindowOpening } from "../window.js";
import { slotsToFree } from "./register.js";

export interface PlanRequest {
  rotationId: string;
  credential: ResolvedCredential;
  trigger: Trigger;
  force: boolean;
  lock: HeldLock;
  /** The rotation has a record already (a retry or a resumed run): it is rotated whatever the policy says. */
  resuming: boolean;
  /** The old certificate, as the existing record knows it (for a rotation resumed after promote). */
  recordedOldFingerprint?: string;
}

/** The stored client_id, checked against the config's: a typo must not rotate another bank credential. */
function storedClientId(credential: ResolvedCredential, current: StoredMaterial): string {
  const stored = current.material.clientId;
  if (stored && credential.clientId && stored !== credential.clientId) {
    throw new CertrotorError(
      "CONFIG_INVALID",
      `credential "${credential.id}": the config's clientId "${credential.clientId}" differs from the store's "${stored}" (store "${credential.store}", path "${credential.ref.path}"); nothing was changed`,
      {
        hint: "fix the clientId in the config, or the stored material if the config is right",
        details: { credentialId: credential.id, field: "clientId" },
      },
    );
  }
  return stored || credential.clientId;
}

/**
 * Pending material of another rotation, found while we hold the lock: a rotation that is not running, e.g.
 * one whose job was lost (failed by the queue's stall limit, or gone with Redis). It never promoted
 * (current is not its material), so it is rolled back as its own failure would be: its cert unbound first,
 * then its key dropped — dropping the key of a cert still bound would break invariant 3 — and its record
 * closed, so it neither holds a slot nor stays "running".
 */
async function rollBackLeftover(deps: RotationDeps, request: PlanRequest, leftoverId: string): Promise<void> {
  const { credential } = request;
  const failure = new CertrotorError(
    "ROTATION_FAILED",
    `rotation "${leftoverId}" of credential "${credential.id}" was left unfinished; rotation "${request.rotationId}" rolled it back`,
  );
  const undone = await undoRotation(deps, credential, leftoverId, failure, request.lock);
  deps.logger.warn(
    { staleRotationId: leftoverId, ...(undone.unbound ? { unbound: undone.unbound } : {}) },
    "rolled back the leftover of an unfinished rotation",
  );
}

export async function plan(
  deps: RotationDeps,
  request: PlanRequest,
): Promise<Planned | Extract<RotationOutcome, { status: "not-due" }>> {
  const { credential } = request;
  const where = `store "${credential.store}" current material of credential "${credential.id}"`;
  // one read of both where the store keeps them together (the file store's document)
  const read = await readCurrentAndPending(deps.store, credential.ref);
  const { current } = read;
  const base: RotationBase = {
    rotationId: request.rotationId,
    credential,
    trigger: request.trigger,
    force: request.force,
    lock: request.lock,
    clientId: storedClientId(credential, current),
  };

  if (current.material.rotationId === request.rotationId) {
    // promote already happened in an earlier attempt: only retire is left. That attempt may have stopped
    // between promote's two writes (Vault: current, then delete the pending path; AWS: move AWSCURRENT, then
    // AWSPENDING), leaving a pending copy behind: promoting again is idempotent and finishes that cleanup.
    await fenced(base, () => deps.store.promote(credential.ref, request.rotationId, current.version));
    return {
      ...base,
      phase: "promoted",
      current,
      ...(request.recordedOldFingerprint ? { oldFingerprint: request.recordedOldFingerprint } : {}),
    };
  }
  const currentInfo = inspectCertificate(current.material.certPem);
  assertKeyMatchesCertificate(current.material.keyPem, current.material.certPem, where);
  if (!current.material.clientSecret) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `credential "${credential.id}": the stored material has no client secret, so a new certificate could never be verified; nothing was changed`,
      {
        hint: "store the credential's client_secret beside its certificate (certrotor import --client-secret-env, or the store's clientSecret field)",
        details: { credentialId: credential.id, field: "clientSecret" },
      },
    );
  }

  let { pending } = read;
  if (pending && pending.rotationId !== request.rotationId) {
    // promoted but stopped before clearing its pending: the same material is current, nothing is lost
    if (pending.rotationId === current.material.rotationId) {
      const promotedId = pending.rotationId;
      await fenced(base, () => deps.store.dropPending(credential.ref, promotedId));
    } else await rollBackLeftover(deps, request, pending.rotationId);
    pending = null;
  }
  if (!pending && !request.resuming && !request.force) {
    const decision = decideRenewal({
      credentialId: credential.id,
      notBefore: currentInfo.notBefore,
      notAfter: currentInfo.notAfter,
      policy: credential.policy,
      now: deps.now(),
      scheduled: request.trigger === "schedule",
    });
    if (decision.status === "ok")
      return { status: "not-due", message: decision.message, renewAt: decision.renewAt };
    if (decision.status === "due" && request.trigger === "schedule") {
      return { status: "not-due", message: decision.message, renewAt: decision.startAt };
    }
  }
  const planned: Planned = {
    ...base,
    phase: "fresh",
    current,
    currentInfo,
    oldFingerprint: currentInfo.fingerprint,
    pending,
  };
  // a single-slot bank's cut-over means an outage: it starts only inside the maintenance window
  const { window } = credential.policy;
  if (!pending && deps.bankProfile?.maxSlots === 1 && window && !inWindow(window, deps.now())) {
    const opening = nextWindowOpening(window, deps.now(), currentInfo.notAfter) ?? currentInfo.notAfter;
    return {
      status: "not-due",
      message: `credential "${credential.id}" is at a single-slot bank: the cut-over waits for its maintenance window (next opening ${opening.toISOString()})`,
      renewAt: opening,
    };
  }
  // read-only pre-flight of register: a credential whose slots are full is refused before anything is made
  // (only where certrotor binds through the slot API: a portal bank's person, or a bank trusting the CA,
  // has no slots certrotor could free)
  if (!pending) {
    if ((deps.bankProfile?.registration ?? "api") === "api")
      await slotsToFree(deps, planned, await requireSlots(deps.bank).listSlots(planned.clientId));
    await deps.issuer.check();
  }
  return planned;
}
