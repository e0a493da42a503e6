/**
 * The rotation saga: plan → generate → issue → stage → register → verify → promote → retire → done.
 * One call is one attempt. Every step looks at the world before acting, so an attempt interrupted at any
 * point (a crash, a kill) is safe to run again with the same rotation id and converges (invariant 6).
 * The journal records progress for status and audit; it is never the source of truth.
 *
 * The runner owns what is common to every step: the lock (taken first, released last), the journal
 * record and its fencing (every write carries the lease), the hook points, the progress events, the
 * audit event of each step's effect (the journal appends one per rotation, action and fingerprint), and
 * which steps run at all: a rotation resumed with its pending material skips generate, issue and stage;
 * one resumed after promote goes straight to retire.
 */
import { randomUUID } from "node:crypto";
import { fingerprintOf } from "../crypto/index.js";
import { CertrotorError, toCertrotorError } from "../errors.js";
import { type AuditAction, fencedJournal, isFinished, type RotationRecord } from "../journal/types.js";
import { type Attempt, emit, hookAt, recordAudit, runStep } from "./attempt.js";
import type {
  FreshPlan,
  HeldLock,
  Planned,
  Promoted,
  Registration,
  RotationDeps,
  RotationOutcome,
  Staged,
  Trigger,
} from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { finishRotation } from "./finish.js";
import { acquireRotationLock } from "./lock.js";
import { endCutOver } from "./steps/cut-over.js";
import { generate } from "./steps/generate.js";
import { issue } from "./steps/issue.js";
import { plan } from "./steps/plan.js";
import { promote } from "./steps/promote.js";
import { register } from "./steps/register.js";
import { stage } from "./steps/stage.js";
import { verify } from "./steps/verify.js";
import { signsInPortal, signTask, stageKeyForSigning } from "./steps/portal-sign.js";
import { nextCheckDelay, taskCancelled } from "./tasks.js";
import type { HumanTask } from "../tasks/types.js";

export function newRotationId(): string {
  return `rot_${randomUUID().replaceAll("-", "")}`;
}

export interface AttemptOptions {
  /** Resume this rotation; a new id is made when absent. */
  rotationId?: string;
  trigger: Trigger;
  /** Rotate even when not due (on-demand). */
  force?: boolean;
}

async function beginRecord(attempt: Attempt, existing: RotationRecord | null, oldFingerprint?: string) {
  const { deps } = attempt;
  if (existing) {
    return deps.journal.update(attempt.rotationId, {
      status: "running",
      // a parked rotation looking again spends no attempt: it has not failed
      attempts: existing.status === "awaiting-registration" ? existing.attempts : existing.attempts + 1,
      errorCode: undefined,
      errorMessage: undefined,
      hint: undefined,
    });
  }
  const now = deps.now().toISOString();
  const record: RotationRecord = {
    rotationId: attempt.rotationId,
    credentialId: attempt.credentialId,
    trigger: attempt.trigger,
    startedAt: now,
    updatedAt: now,
    step: "plan",
    stepStartedAt: now,
    status: "running",
    attempts: 1,
    ...(oldFingerprint ? { oldFingerprint } : {}),
  };
  await deps.journal.begin(record);
  return record;
}

/**
 * generate → issue → stage, or this rotation's pending material from an earlier attempt. Where the bank's
 * portal signs, the key is staged first and the rotation parks on a sign-csr task until an operator
 * handed the signed certificate back (task complete); then the pending material is the real one.
 */
async function staged(attempt: Attempt, planned: FreshPlan): Promise<Staged | RotationOutcome> {
  if (signsInPortal(attempt.deps)) {
    const signed = await signedInPortal(attempt, planned);
    if ("status" in signed) return signed;
  }
  const material =
    (signsInPortal(attempt.deps) ? await ownPending(attempt, planned) : planned.pending?.material) ??
    (await newMaterial(attempt, planned));
  // the attempt that staged it may have stopped (a crash, a lost lease) between stage's effect and its
  // audit event or the record's newFingerprint: both are written here once (the journal appends an audit
  // event once per rotation, action and fingerprint)
  if (planned.pending) await recordAudit(attempt, "staged", { fingerprint: material.fingerprint });
  if (attempt.record?.newFingerprint !== material.fingerprint) {
    attempt.record = await attempt.deps.journal.update(attempt.rotationId, {
      newFingerprint: material.fingerprint,
    });
  }
  return material;
}

/** This rotation's pending material, as the store has it now. */
async function ownPending(attempt: Attempt, planned: FreshPlan): Promise<Staged | undefined> {
  const pending = await attempt.deps.store.readPending(planned.credential.ref);
  return pending?.rotationId === planned.rotationId ? pending.material : undefined;
}

/** The portal-signing path up to a signed certificate: the task done, or the rotation parked on it. */
async function signedInPortal(
  attempt: Attempt,
  planned: FreshPlan,
): Promise<{ done: true } | RotationOutcome> {
  if (!planned.pending) {
    // the PFX is built when the signed certificate comes back, days later maybe: nothing to derive ahead
    const generated = await runStep(attempt, "generate", () => generate(planned, false));
    await runStep(attempt, "issue", (deps) => stageKeyForSigning(deps, planned, generated));
  }
  const pending = await ownPending(attempt, planned);
  if (!pending)
    throw new CertrotorError("INTERNAL", `rotation "${planned.rotationId}": its staged key is gone`);
  const task = await signTask(attempt.deps, planned, pending);
  if (task.status === "cancelled") throw taskCancelled(planned.credential, task);
  if (task.status === "done") return { done: true };
  await recordAudit(attempt, "task-opened", {
    fingerprint: pending.fingerprint,
    taskId: task.id,
    kind: task.kind,
  });
  return park(attempt, task);
}

async function newMaterial(attempt: Attempt, planned: FreshPlan): Promise<Staged> {
  const generated = await runStep(attempt, "generate", () => generate(planned));
  const issued = await runStep(
    attempt,
    "issue",
    (deps) => issue(deps, planned, generated),
    (result) => ({
      action: "issued",
      details: { issuer: planned.credential.issuer, fingerprint: fingerprintOf(result.certPem) },
    }),
  );
  return runStep(
    attempt,
    "stage",
    (deps) => stage(deps, planned, issued),
    (result) => ({ action: "staged", details: { fingerprint: result.fingerprint } }),
  );
}

/** The audit event of register's outcome (each once per rotation and fingerprint). */
function registrationAudit(
  registration: Registration,
  fingerprint: string,
): { action: AuditAction; details: Record<string, string> } {
  switch (registration.how) {
    case "bound":
      return { action: "bound", details: { fingerprint } };
    case "trusted":
      return {
        action: "bind-skipped",
        details: { fingerprint, reason: "registration none: the bank trusts the issuing CA" },
      };
    case "confirmed":
      return { action: "bound", details: { fingerprint, by: "portal", taskId: registration.task.id } };
    case "awaiting":
      return {
        action: "task-opened",
        details: { fingerprint, taskId: registration.task.id, kind: registration.task.kind },
      };
  }
}

/**
 * Parks the rotation on its task: the journal says awaiting-registration, the lock is released by the
 * caller, and the next look is due after the task's backoff (tasks.pollEvery doubling to tasks.pollMax).
 */
async function park(attempt: Attempt, task: HumanTask): Promise<RotationOutcome> {
  const { deps } = attempt;
  const record = await deps.journal.update(attempt.rotationId, { status: "awaiting-registration" });
  attempt.record = record;
  await hookAt(
    deps,
    { credentialId: attempt.credentialId, rotationId: attempt.rotationId },
    `${record.step}:parked`,
  );
  const checkAgainAt = new Date(deps.now().getTime() + nextCheckDelay(deps, task.checks));
  deps.logger.info(
    { taskId: task.id, checks: task.checks, checkAgainAt: checkAgainAt.toISOString() },
    "awaiting registration at the bank's portal",
  );
  return { status: "awaiting-registration", record, task, checkAgainAt };
}

/**
 * register → verify → promote with the staged material: afterwards it is current. At a portal bank the
 * rotation may park instead, after register, until a person bound the certificate.
 */
async function goLive(
  attempt: Attempt,
  planned: FreshPlan,
  material: Staged,
): Promise<RotationOutcome | undefined> {
  const fingerprint = { fingerprint: material.fingerprint };
  const registration = await runStep(
    attempt,
    "register",
    (deps) => register(deps, planned, material),
    (result) => registrationAudit(result, material.fingerprint),
  );
  if (registration.how === "awaiting") return park(attempt, registration.task);
  await runStep(
    attempt,
    "verify",
    (deps) => verify(deps, planned, material),
    () => ({
      action: "verified",
      details: fingerprint,
    }),
  );
  await runStep(
    attempt,
    "promote",
    async (deps) => {
      await promote(deps, planned);
      await endCutOver(deps, planned, material.fingerprint);
    },
    () => ({
      action: "promoted",
      details: { ...fingerprint, previous: planned.oldFingerprint },
    }),
  );
  await emit(attempt.deps, {
    kind: "promoted",
    credentialId: attempt.credentialId,
    rotationId: attempt.rotationId,
    fingerprint: material.fingerprint,
    notAfter: new Date(material.notAfter),
  });
  return undefined;
}

/**
 * One attempt of a rotation. Returns the outcome, or throws a CertrotorError (recorded in the journal)
 * for the caller to retry or roll back. The lock is always released before returning.
 */
export async function runRotationAttempt(
  given: RotationDeps,
  credential: ResolvedCredential,
  options: AttemptOptions,
): Promise<RotationOutcome> {
  const rotationId = options.rotationId ?? newRotationId();
  const attempt: Attempt = {
    deps: { ...given, logger: given.logger.child({ rotationId }) },
    credentialId: credential.id,
    rotationId,
    trigger: options.trigger,
  };
  let lock: HeldLock | undefined;
  try {
    const planned: Planned | Extract<RotationOutcome, { status: "not-due" }> = await runStep(
      attempt,
      "plan",
      async (deps) => {
        lock = await acquireRotationLock(deps, credential.id);
        // from here on every journal write of this attempt carries the lease (invariant 5)
        attempt.deps = { ...attempt.deps, journal: fencedJournal(attempt.deps.journal, lock.lease) };
        const existing = await attempt.deps.journal.get(rotationId);
        if (existing && isFinished(existing.status)) return { finished: existing };
        const result = await plan(
          { ...deps, journal: attempt.deps.journal },
          {
            rotationId,
            credential,
            trigger: options.trigger,
            force: options.force ?? false,
            lock,
            resuming: existing !== null,
            ...(existing?.oldFingerprint ? { recordedOldFingerprint: existing.oldFingerprint } : {}),
          },
        );
        if ("status" in result) return result;
        attempt.record = await beginRecord(
          attempt,
          existing,
          result.phase === "fresh" ? result.oldFingerprint : existing?.oldFingerprint,
        );
        return result;
      },
    ).then((result) => {
      if ("finished" in result) throw new FinishedSignal(result.finished);
      return result;
    });
    if ("status" in planned) return planned;
    if (planned.phase === "fresh") {
      const material = await staged(attempt, planned);
      if ("status" in material) return material;
      const parked = await goLive(attempt, planned, material);
      if (parked) return parked;
    }
    // resumed after promote: a crash between promote's effect and its audit event left it unrecorded
    // (the journal appends it once, so a promote already recorded adds nothing), and at a single-slot
    // bank a crash before the outage's end left the cut-over open
    else {
      await recordAudit(attempt, "promoted", {
        fingerprint: planned.current.material.fingerprint,
        previous: planned.oldFingerprint ?? "",
      });
      await endCutOver(attempt.deps, planned, planned.current.material.fingerprint);
    }
    const promoted: Promoted = {
      ...planned,
      record: attempt.record ?? (await missingRecord(rotationId)),
      ...(planned.oldFingerprint ? { oldFingerprint: planned.oldFingerprint } : {}),
    };
    return await finishRotation(attempt, promoted);
  } catch (error) {
    if (error instanceof FinishedSignal) return { status: "finished", record: error.record };
    const coded = toCertrotorError(error);
    if (coded.code === "LOCK_LOST") {
      attempt.deps.logger.warn(
        { step: attempt.record?.step },
        "lost the rotation lease: stopping, acting on nothing",
      );
      throw coded;
    }
    attempt.deps.logger.warn(
      { err: { code: coded.code, message: coded.message }, step: attempt.record?.step },
      "attempt failed",
    );
    if (attempt.record) {
      await attempt.deps.journal
        .update(rotationId, {
          errorCode: coded.code,
          errorMessage: coded.message,
          ...(coded.hint ? { hint: coded.hint } : {}),
        })
        .catch(() => undefined);
    }
    throw coded;
  } finally {
    await lock?.release();
  }
}

/** The rotation had finished before this attempt (a job run again after another worker completed it). */
class FinishedSignal extends Error {
  constructor(readonly record: RotationRecord) {
    super("rotation already finished");
  }
}

async function missingRecord(rotationId: string): Promise<never> {
  throw new CertrotorError("INTERNAL", `rotation "${rotationId}" reached retire without a journal record`);
}
