/**
 * The retire-due sweep (`certrotor retire-due`, the worker's retire job): for every rotation whose grace
 * period has passed, unbind the old certificate under the credential's lock, its journal writes fenced.
 */
import { toCertrotorError } from "../errors.js";
import { fencedJournal, type Journal, type RotationRecord } from "../journal/types.js";
import type { Attempt } from "./attempt.js";
import type { RotationDeps, RotationOutcome } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { finishRotation } from "./finish.js";
import { acquireRotationLock } from "./lock.js";

export type RetireSweepItem =
  | { rotationId: string; credentialId: string; outcome: RotationOutcome }
  | { rotationId: string; credentialId: string; error: { code: string; message: string } };

export async function retireOne(
  given: RotationDeps,
  credential: ResolvedCredential,
  record: RotationRecord,
): Promise<RotationOutcome> {
  const lock = await acquireRotationLock(given, credential.id);
  try {
    const deps: RotationDeps = {
      ...given,
      logger: given.logger.child({ rotationId: record.rotationId }),
      journal: fencedJournal(given.journal, lock.lease),
    };
    // re-read under the lock: another process may have retired it since the sweep listed it
    const latest = await deps.journal.get(record.rotationId);
    if (latest?.status !== "retire-due") return { status: "finished", record: latest ?? record };
    const current = await deps.store.readCurrent(credential.ref);
    const attempt: Attempt = {
      deps,
      credentialId: credential.id,
      rotationId: record.rotationId,
      trigger: record.trigger,
      record: latest,
    };
    return await finishRotation(attempt, {
      rotationId: record.rotationId,
      credential,
      trigger: record.trigger,
      force: false,
      lock,
      clientId: current.material.clientId || credential.clientId,
      record: latest,
      ...(latest.oldFingerprint ? { oldFingerprint: latest.oldFingerprint } : {}),
    });
  } finally {
    await lock.release();
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
