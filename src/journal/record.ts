/**
 * Rotation-record rules shared by both journal adapters: what a valid record is, and how a patch becomes
 * a change (updatedAt defaulting to now, stepStartedAt following a step change, undefined meaning
 * "remove this field").
 */
import { CertrotorError, isCertrotorError } from "../errors.js";
import {
  isFinished,
  ROTATION_STATUSES,
  type RotationPatch,
  type RotationRecord,
  type RotationStatus,
  STEPS,
  TRIGGERS,
} from "./types.js";

/** A materialized patch: the fields to set (derived ones included) and the fields to remove. */
export interface RecordChange {
  set: Partial<RotationRecord>;
  unset: (keyof RotationRecord)[];
}

const REQUIRED: readonly (keyof RotationRecord)[] = [
  "rotationId",
  "credentialId",
  "trigger",
  "startedAt",
  "updatedAt",
  "step",
  "stepStartedAt",
  "status",
  "attempts",
];

export function isActiveStatus(status: RotationStatus): boolean {
  return status === "running" || status === "retire-due" || status === "awaiting-registration";
}

function invalid(message: string): never {
  throw new CertrotorError("INTERNAL", `journal: ${message}`);
}

/** Throws INTERNAL when `record` lacks a required field or carries an unknown step, status or trigger. */
export function assertValidRecord(record: RotationRecord): void {
  for (const field of REQUIRED) {
    if (record[field] === undefined || record[field] === "") invalid(`rotation record lacks "${field}"`);
  }
  if (!STEPS.includes(record.step)) invalid(`unknown step "${record.step}"`);
  if (!ROTATION_STATUSES.includes(record.status)) invalid(`unknown status "${record.status}"`);
  if (!TRIGGERS.includes(record.trigger)) invalid(`unknown trigger "${record.trigger}"`);
  if (!Number.isInteger(record.attempts) || record.attempts < 0) invalid("attempts must be an integer >= 0");
}

/**
 * The change `patch` makes to `current` at `now`. A finished record refuses every change
 * (RECORD_FINISHED), but a writer whose lease is gone (`assertFence` throws LOCK_LOST; a no-op for an
 * unfenced write) learns that instead: its rotation was taken over and finished by another process while
 * it stalled, so it must stop as one that lost its lease (logged once, nothing undone, no alert), not
 * fail a rotation it no longer owns. A finished record never changes again, so checking the lease after
 * reading it is as good as checking it atomically with the read.
 */
export async function materializeFenced(
  current: RotationRecord,
  patch: RotationPatch,
  now: Date,
  assertFence: () => Promise<void>,
): Promise<RecordChange> {
  try {
    return materialize(current, patch, now);
  } catch (error) {
    if (isCertrotorError(error, "RECORD_FINISHED")) await assertFence();
    throw error;
  }
}

function materialize(current: RotationRecord, patch: RotationPatch, now: Date): RecordChange {
  if (isFinished(current.status)) {
    throw new CertrotorError(
      "RECORD_FINISHED",
      `journal: rotation "${current.rotationId}" finished (${current.status}); its record cannot change`,
      { details: { rotationId: current.rotationId, status: current.status } },
    );
  }
  for (const field of ["rotationId", "credentialId"] as const) {
    if (field in patch && patch[field] !== current[field]) {
      invalid(`the ${field} of rotation "${current.rotationId}" cannot change`);
    }
  }
  const set: Record<string, unknown> = {};
  const unset: (keyof RotationRecord)[] = [];
  for (const [field, value] of Object.entries(patch) as [keyof RotationRecord, unknown][]) {
    if (value === undefined) {
      if (REQUIRED.includes(field)) invalid(`"${field}" cannot be removed from a rotation record`);
      unset.push(field);
    } else set[field] = value;
  }
  set.updatedAt ??= now.toISOString();
  if (patch.step !== undefined && patch.step !== current.step && patch.stepStartedAt === undefined) {
    set.stepStartedAt = set.updatedAt;
  }
  return { set: set as Partial<RotationRecord>, unset };
}

export function applyChange(record: RotationRecord, change: RecordChange): RotationRecord {
  const next: Record<string, unknown> = { ...record, ...change.set };
  for (const field of change.unset) delete next[field];
  return next as unknown as RotationRecord;
}

/** Newest first by startedAt (ties: rotationId, so the order is total). */
export function newestFirst(a: RotationRecord, b: RotationRecord): number {
  return compare(b.startedAt, a.startedAt) || compare(b.rotationId, a.rotationId);
}

/** Plain code-unit order: ISO 8601 UTC timestamps of one format sort as text. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
