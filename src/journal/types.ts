/**
 * The rotation journal port: progress of each rotation (for `status`, audit and scan's "stuck" drift)
 * and an append-only audit trail. It is never the only source of truth — every saga step re-reads the
 * store and the bank — and it holds no secret (writes that look like key material are refused).
 *
 * Adapters: file.ts (JSON lines under the state dir) and redis.ts (hashes + sorted sets under a prefix).
 */

export const STEPS = [
  "plan",
  "generate",
  "issue",
  "stage",
  "register",
  "verify",
  "promote",
  "retire",
  "done",
] as const;
export type StepName = (typeof STEPS)[number];

export const ROTATION_STATUSES = [
  "running",
  "succeeded",
  "failed",
  "rolled-back",
  "retire-due",
  /** Parked on a human task (a person binds the new certificate in the bank's portal). */
  "awaiting-registration",
] as const;
export type RotationStatus = (typeof ROTATION_STATUSES)[number];

export const TRIGGERS = ["schedule", "on-demand", "operator", "inline"] as const;
export type RotationTrigger = (typeof TRIGGERS)[number];

export interface RotationRecord {
  rotationId: string;
  credentialId: string;
  trigger: RotationTrigger;
  /** ISO 8601 UTC timestamps throughout. */
  startedAt: string;
  updatedAt: string;
  step: StepName;
  stepStartedAt: string;
  status: RotationStatus;
  attempts: number;
  errorCode?: string;
  /** Safe text only (a CertrotorError message), never a cause or a stack. */
  errorMessage?: string;
  hint?: string;
  /** SHA-256 fingerprints (lowercase hex) of the cert being replaced and of its successor. */
  oldFingerprint?: string;
  newFingerprint?: string;
  retireDueAt?: string;
  finishedAt?: string;
  /**
   * A cut-over at a single-slot bank: when the old certificate was unbound (no certificate bound from
   * then) and when a certificate worked again (the new one verified, or the old one rebound on rollback).
   */
  outageStartedAt?: string;
  outageEndedAt?: string;
}

export const AUDIT_ACTIONS = [
  "issued",
  "staged",
  "bound",
  "verified",
  "promoted",
  "unbound",
  "rolled-back",
  "retire-scheduled",
  "failed",
  /** An operator brought material into the store with `certrotor import`. */
  "imported",
  /** A person asked for a rotation in the console (actor: their name); the rotation's own events follow. */
  "rotation-requested",
  /** The bank trusts the issuing CA (registration: none): nothing to bind, or to unbind. */
  "bind-skipped",
  "unbind-skipped",
  /** A human task was opened, or closed (done, cancelled). */
  "task-opened",
  "task-closed",
  /** A single-slot bank's cut-over ended: the measured outage. */
  "cut-over",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What made a change: the rotation's trigger, or the name of the console user who asked for it. */
export type AuditActor = RotationTrigger | (string & {});

export interface AuditEvent {
  at: string;
  credentialId: string;
  rotationId?: string;
  action: AuditAction;
  actor: AuditActor;
  details?: Record<string, string | number | boolean>;
}

/**
 * A patch for `update`. A key present with the value `undefined` removes that field (e.g. clearing
 * `errorCode` after a retry succeeds). `rotationId` and `credentialId` cannot change.
 */
export type RotationPatch = Partial<RotationRecord>;

/** Statuses a rotation ends in: a record in one of them never changes again. */
export const FINISHED_STATUSES = ["succeeded", "failed", "rolled-back"] as const satisfies RotationStatus[];

export function isFinished(status: RotationStatus): boolean {
  return (FINISHED_STATUSES as readonly string[]).includes(status);
}

/**
 * The lease a write is made under (invariant 5): the write is refused with LOCK_LOST, atomically with the
 * write itself, unless the lock `key` is still held under fencing token `token`. A process that stalled
 * past its lease (paused, partitioned) and wakes up changes no record and adds no audit event.
 */
export interface Fence {
  readonly key: string;
  readonly token: number;
}

/**
 * Every write takes an optional fence; the saga hands its lease to every write it makes (fencedJournal).
 * Audit events of a rotation are idempotent: an event with a rotation id is appended once per (rotation,
 * action, details.fingerprint), so a retried or resumed step that finds its work done records nothing new.
 */
export interface Journal {
  /** Records a new rotation. Idempotent: beginning the same rotation id of the same credential again is a no-op. */
  begin(record: RotationRecord, fence?: Fence): Promise<void>;
  /**
   * Merges `patch` into the record and returns the result. `updatedAt` defaults to now; when `step`
   * changes and no `stepStartedAt` is given, `stepStartedAt` becomes `updatedAt`. NOT_FOUND when unknown,
   * RECORD_FINISHED when the record is finished (see FINISHED_STATUSES).
   */
  update(rotationId: string, patch: RotationPatch, fence?: Fence): Promise<RotationRecord>;
  get(rotationId: string): Promise<RotationRecord | null>;
  /** The most recently started rotation of the credential. */
  latest(credentialId: string): Promise<RotationRecord | null>;
  /** Newest first, at most `limit` (default 20); older records beyond the adapter's bound are pruned. */
  history(credentialId: string, limit?: number): Promise<RotationRecord[]>;
  /** Rotations whose status is running, awaiting-registration or retire-due, oldest first. */
  active(): Promise<RotationRecord[]>;
  /** Rotations in status retire-due whose retireDueAt is at or before `now`, earliest first. */
  retireDue(now: Date): Promise<RotationRecord[]>;
  /** Appends the event; false when an event of the same rotation, action and fingerprint is already there. */
  audit(event: AuditEvent, fence?: Fence): Promise<boolean>;
  /** Newest first, at most `limit` (default 100). */
  auditTrail(credentialId: string, limit?: number): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

/** The key that makes an audit event of a rotation idempotent: action and the fingerprint it concerns. */
export function auditKey(event: AuditEvent): string | undefined {
  if (!event.rotationId) return undefined;
  return `${event.action}|${String(event.details?.fingerprint ?? "")}`;
}

/** `journal` with every write made under `fence`. */
export function fencedJournal(journal: Journal, fence: Fence): Journal {
  return {
    ...journal,
    begin: (record) => journal.begin(record, fence),
    update: (rotationId, patch) => journal.update(rotationId, patch, fence),
    audit: (event) => journal.audit(event, fence),
  };
}
