/**
 * One attempt's bookkeeping and the step runner shared by the saga (saga.ts) and the end of a rotation
 * (finish.ts): journal the step (when the rotation has a record), announce it to the observers, hook its
 * start, do it, hook its effect, record its audit event. The step itself checks the lease right before
 * its external effect (fence.ts); the journal writes carry the lease (fencedJournal).
 */
import { performance } from "node:perf_hooks";
import { toCertrotorError } from "../errors.js";
import type { AuditAction, RotationRecord, StepName } from "../journal/types.js";
import type { HookPoint, RotationDeps, RotationEvent, Trigger } from "./context.js";

/** One attempt's bookkeeping, shared by the steps: its deps (journal fenced once the lock is held). */
export interface Attempt {
  deps: RotationDeps;
  credentialId: string;
  rotationId: string;
  trigger: Trigger;
  record?: RotationRecord;
}

async function hook(attempt: Attempt, point: HookPoint): Promise<void> {
  await hookAt(attempt.deps, { credentialId: attempt.credentialId, rotationId: attempt.rotationId }, point);
}

/** A hook point inside a step, between two of its effects (context.ts HookPoint). */
export async function hookAt(
  deps: Pick<RotationDeps, "hooks">,
  where: { credentialId: string; rotationId: string },
  point: HookPoint,
): Promise<void> {
  await deps.hooks?.at(point, where);
}

/** Delivers an event to every observer; an observer's failure is logged, never the rotation's. */
export async function emit(deps: RotationDeps, event: RotationEvent): Promise<void> {
  for (const observe of deps.observers ?? []) {
    try {
      await observe(event);
    } catch (error) {
      deps.logger.warn({ err: toCertrotorError(error).message, event: event.kind }, "observer failed");
    }
  }
}

export async function runStep<T>(
  attempt: Attempt,
  step: StepName,
  work: (deps: RotationDeps) => Promise<T>,
  audit?: (result: T) => { action: AuditAction; details?: Record<string, string> } | undefined,
): Promise<T> {
  const { deps } = attempt;
  if (attempt.record) attempt.record = await deps.journal.update(attempt.rotationId, { step });
  const where = { credentialId: attempt.credentialId, rotationId: attempt.rotationId };
  const logger = deps.logger.child({ step });
  logger.debug("step started");
  await emit(deps, { kind: "step-started", step, ...where });
  const startedAt = performance.now();
  let ok = false;
  try {
    await hook(attempt, `${step}:start`);
    const result = await work({ ...deps, logger });
    await hook(attempt, `${step}:effect`);
    const event = audit?.(result);
    if (event) await recordAudit(attempt, event.action, event.details);
    ok = true;
    return result;
  } finally {
    await emit(deps, { kind: "step-finished", step, ...where, ms: performance.now() - startedAt, ok });
  }
}

export async function recordAudit(
  attempt: Attempt,
  action: AuditAction,
  details?: Record<string, string>,
): Promise<void> {
  await attempt.deps.journal.audit({
    at: attempt.deps.now().toISOString(),
    credentialId: attempt.credentialId,
    rotationId: attempt.rotationId,
    action,
    actor: attempt.trigger,
    ...(details ? { details } : {}),
  });
}
