/**
 * The retire-due sweep (`certrotor retire-due`, the worker's retire job): for every rotation whose grace
 * period has passed, unbind the old certificate under the credential's lock.
 */
import { toCertrotorError } from "../errors.js";
import type { Journal, RotationRecord } from "../journal/types.js";
import type { RotationDeps, RotationOutcome } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { acquireRotationLock } from "./lock.js";
import { finishRotation, initialState } from "./saga.js";

export type RetireSweepItem =
  | { rotationId: string; credentialId: string; outcome: RotationOutcome }
  | { rotationId: string; credentialId: string; error: { code: string; message: string } };

export async function retireOne(
  given: RotationDeps,
  credential: ResolvedCredential,
  record: RotationRecord,
): Promise<RotationOutcome> {
  const deps = { ...given, logger: given.logger.child({ rotationId: record.rotationId }) };
  const state = initialState(credential, record.rotationId, record.trigger, false);
  state.lock = await acquireRotationLock(deps, credential.id);
  try {
    const current = await deps.store.readCurrent(credential.ref);
    state.clientId = current.material.clientId || credential.clientId;
    state.record = record;
    state.promoted = true;
    if (record.oldFingerprint) state.oldFingerprint = record.oldFingerprint;
    return await finishRotation(deps, state);
  } finally {
    await state.lock.release();
  }
}

export async function retireDue(
  journal: Journal,
  now: Date,
  depsFor: (credentialId: string) => Promise<{ deps: RotationDeps; credential: ResolvedCredential }>,
): Promise<RetireSweepItem[]> {
  const results: RetireSweepItem[] = [];
  for (const record of await journal.retireDue(now)) {
    try {
      const { deps, credential } = await depsFor(record.credentialId);
      results.push({
        rotationId: record.rotationId,
        credentialId: record.credentialId,
        outcome: await retireOne(deps, credential, record),
      });
    } catch (thrown) {
      const error = toCertrotorError(thrown);
      results.push({
        rotationId: record.rotationId,
        credentialId: record.credentialId,
        error: { code: error.code, message: error.message },
      });
    }
  }
  return results;
}
