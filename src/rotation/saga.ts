/**
 * The rotation saga: plan → generate → issue → stage → register → verify → promote → retire → done.
 * One call is one attempt. Every step looks at the world before acting, so an attempt interrupted at any
 * point (a crash, a kill) is safe to run again with the same rotation id and converges (invariant 6).
 * The journal records progress for status and audit; it is never the source of truth.
 */
import { randomUUID } from "node:crypto";
import { fingerprintOf } from "../crypto/index.js";
import { CertrotorError, toCertrotorError } from "../errors.js";
import type { AuditAction, RotationRecord, StepName } from "../journal/types.js";
import type { RotationDeps, RotationOutcome, RotationState, Trigger } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { generate } from "./steps/generate.js";
import { issue } from "./steps/issue.js";
import { plan } from "./steps/plan.js";
import { promote } from "./steps/promote.js";
import { register } from "./steps/register.js";
import { type RetireResult, retire } from "./steps/retire.js";
import { stage } from "./steps/stage.js";
import { verify } from "./steps/verify.js";

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

type Step = (deps: RotationDeps, state: RotationState) => Promise<void>;

/** The steps between plan and retire, with the audit action each one's effect records. */
const MIDDLE: ReadonlyArray<[StepName, Step, AuditAction | undefined]> = [
  ["generate", generate, undefined],
  ["issue", issue, "issued"],
  ["stage", stage, "staged"],
  ["register", register, "bound"],
  ["verify", verify, "verified"],
  ["promote", promote, "promoted"],
];

export function initialState(
  credential: ResolvedCredential,
  rotationId: string,
  trigger: Trigger,
  force: boolean,
): RotationState {
  return {
    rotationId,
    credential,
    trigger,
    force,
    clientId: credential.clientId,
    staleOwnFingerprints: [],
    promoted: false,
  };
}

async function audit(
  deps: RotationDeps,
  state: RotationState,
  action: AuditAction,
  details?: Record<string, string>,
) {
  await deps.journal.audit({
    at: deps.now().toISOString(),
    credentialId: state.credential.id,
    rotationId: state.rotationId,
    action,
    actor: state.trigger,
    ...(details ? { details } : {}),
  });
}

/**
 * Resuming after promote: a crash between promote and its audit event would leave the promote
 * unrecorded (the steps before it are redone and re-audited on resume; promote is not redone).
 */
async function auditPromoteOnce(deps: RotationDeps, state: RotationState): Promise<void> {
  const trail = await deps.journal.auditTrail(state.credential.id, 50);
  if (trail.some((e) => e.rotationId === state.rotationId && e.action === "promoted")) return;
  const fingerprint = state.current?.material.fingerprint ?? "";
  await audit(deps, state, "promoted", { fingerprint, previous: state.oldFingerprint ?? "" });
}

/**
 * The middle steps' audit events a rotation already has, from its earlier attempts. A retried or resumed
 * attempt redoes the steps before the one that failed (each is idempotent: it finds its work done), and
 * an event is recorded again only when the step did something new: another certificate (its
 * fingerprint differs), or an action not recorded yet.
 */
async function recordedSteps(deps: RotationDeps, state: RotationState): Promise<Map<string, Set<string>>> {
  const byAction = new Map<string, Set<string>>();
  const trail = await deps.journal.auditTrail(state.credential.id, 500);
  for (const event of trail) {
    if (event.rotationId !== state.rotationId) continue;
    const fingerprints = byAction.get(event.action) ?? new Set<string>();
    fingerprints.add(String(event.details?.fingerprint ?? ""));
    byAction.set(event.action, fingerprints);
  }
  return byAction;
}

function alreadyRecorded(
  recorded: Map<string, Set<string>>,
  action: AuditAction,
  details: Record<string, string> | undefined,
): boolean {
  const fingerprints = recorded.get(action);
  if (!fingerprints) return false;
  return details?.fingerprint === undefined || fingerprints.has(details.fingerprint);
}

/** A step's own deps: every line it logs carries the step name. */
function inStep(deps: RotationDeps, step: StepName): RotationDeps {
  return { ...deps, logger: deps.logger.child({ step }) };
}

async function enterStep(deps: RotationDeps, state: RotationState, step: StepName): Promise<void> {
  await state.lock?.lease.check();
  state.record = await deps.journal.update(state.rotationId, { step });
  deps.logger.debug({ step }, "step started");
  await deps.hooks?.at(`${step}:start`, state);
}

async function beginRecord(
  deps: RotationDeps,
  state: RotationState,
  existing: RotationRecord | null,
): Promise<void> {
  const now = deps.now().toISOString();
  if (existing) {
    state.record = await deps.journal.update(state.rotationId, {
      status: "running",
      attempts: existing.attempts + 1,
      errorCode: undefined,
      errorMessage: undefined,
      hint: undefined,
    });
    state.oldFingerprint ??= existing.oldFingerprint;
    return;
  }
  const record: RotationRecord = {
    rotationId: state.rotationId,
    credentialId: state.credential.id,
    trigger: state.trigger,
    startedAt: now,
    updatedAt: now,
    step: "plan",
    stepStartedAt: now,
    status: "running",
    attempts: 1,
    ...(state.oldFingerprint ? { oldFingerprint: state.oldFingerprint } : {}),
  };
  await deps.journal.begin(record);
  state.record = record;
}

/** Retire (now or later) and finish; shared by the attempt and by the retire-due sweep. */
export async function finishRotation(deps: RotationDeps, state: RotationState): Promise<RotationOutcome> {
  const record = state.record!;
  const retireDueAt = record.retireDueAt
    ? new Date(record.retireDueAt)
    : new Date(deps.now().getTime() + state.credential.policy.gracePeriod);
  await enterStep(deps, state, "retire");
  if (!record.retireDueAt) {
    state.record = await deps.journal.update(state.rotationId, { retireDueAt: retireDueAt.toISOString() });
    await audit(deps, state, "retire-scheduled", { retireDueAt: retireDueAt.toISOString() });
  }
  const result: RetireResult = await retire(deps, state, retireDueAt);
  await deps.hooks?.at("retire:effect", state);
  if (result.status === "wait") {
    state.record = await deps.journal.update(state.rotationId, { status: "retire-due" });
    return { status: "retire-due", record: state.record, retireDueAt: result.until };
  }
  if (result.status === "consumers-on-old-cert") {
    const error = new CertrotorError(
      "CONSUMERS_ON_OLD_CERT",
      `credential "${state.credential.id}": the old certificate was still used at ${result.lastUsedAt.toISOString()}, past the retire bound; it stays bound`,
      {
        hint: "find the consumers still using the old certificate and make them reload the current material",
      },
    );
    state.record = await deps.journal.update(state.rotationId, {
      step: "done",
      status: "succeeded",
      errorCode: error.code,
      errorMessage: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      finishedAt: deps.now().toISOString(),
    });
    return { status: "consumers-on-old-cert", record: state.record };
  }
  if (state.oldFingerprint) await audit(deps, state, "unbound", { fingerprint: state.oldFingerprint });
  await enterStep(deps, state, "done");
  state.record = await deps.journal.update(state.rotationId, {
    status: "succeeded",
    finishedAt: deps.now().toISOString(),
  });
  await deps.hooks?.at("done:end", state);
  return { status: "succeeded", record: state.record };
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
  const deps = { ...given, logger: given.logger.child({ rotationId }) };
  const state = initialState(credential, rotationId, options.trigger, options.force ?? false);
  const existing = await deps.journal.get(rotationId);
  try {
    await deps.hooks?.at("plan:start", state);
    const early = await plan(inStep(deps, "plan"), state, existing !== null);
    if (early) return early;
    await beginRecord(deps, state, existing);
    if (state.promoted) await auditPromoteOnce(deps, state);
    else {
      const recorded = existing ? await recordedSteps(deps, state) : new Map<string, Set<string>>();
      for (const [name, step, action] of MIDDLE) {
        await enterStep(deps, state, name);
        await step(inStep(deps, name), state);
        await deps.hooks?.at(`${name}:effect`, state);
        const details = action ? stepDetails(name, state) : undefined;
        if (action && !alreadyRecorded(recorded, action, details)) await audit(deps, state, action, details);
        if (name === "stage" && state.staged) {
          state.record = await deps.journal.update(rotationId, { newFingerprint: state.staged.fingerprint });
        }
      }
    }
    return await finishRotation(deps, state);
  } catch (error) {
    const coded = toCertrotorError(error);
    deps.logger.warn(
      { err: { code: coded.code, message: coded.message }, step: state.record?.step },
      "attempt failed",
    );
    if (state.record) {
      await deps.journal
        .update(rotationId, {
          errorCode: coded.code,
          errorMessage: coded.message,
          ...(coded.hint ? { hint: coded.hint } : {}),
        })
        .catch(() => undefined);
    }
    throw coded;
  } finally {
    await state.lock?.release();
  }
}

function stepDetails(step: StepName, state: RotationState): Record<string, string> | undefined {
  const fingerprint = state.staged?.fingerprint ?? "";
  if (step === "issue")
    return state.fresh?.certPem
      ? { issuer: state.credential.issuer, fingerprint: fingerprintOf(state.fresh.certPem) }
      : undefined;
  if (step === "promote") return { fingerprint, previous: state.oldFingerprint ?? "" };
  return fingerprint ? { fingerprint } : undefined;
}
