/**
 * Human tasks: what a person must do at a bank that certrotor cannot reach through an API (bind a
 * certificate in the portal, upload a CSR and hand back the signed certificate, unbind an old
 * certificate). A task lives in the shared state beside the journal (Redis, or files under stateDir),
 * so a worker, `task list` and `status` see the same tasks.
 *
 * A task holds public material only (a certificate, its fingerprint and notAfter, a CSR): never a key, a
 * client secret or a token (guard.ts refuses anything else that looks secret). Its id is derived from
 * its rotation and kind, so opening it again (a rerun of the same step) finds the same task.
 *
 * Adapters: redis.ts and file.ts, chosen as the journal is (index.ts, runtime.ts).
 */
import { createHash } from "node:crypto";
import type { Fence } from "../journal/types.js";

export const TASK_KINDS = ["bind-certificate", "sign-csr", "unbind-certificate"] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TASK_STATUSES = ["open", "done", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface HumanTask {
  id: string;
  kind: TaskKind;
  credentialId: string;
  rotationId: string;
  /** The bank (config name) and the client_id the task is about. */
  bank: string;
  clientId: string;
  status: TaskStatus;
  /** ISO 8601 UTC throughout. */
  createdAt: string;
  updatedAt: string;
  /** Done by then, or the old certificate may expire before its successor is live. */
  deadline: string;
  /** The bank's portal (bank config `portalUrl`). */
  portalUrl?: string;
  /** The certificate to bind or unbind (public), its SHA-256 fingerprint (hex) and notAfter. */
  certPem?: string;
  fingerprint?: string;
  notAfter?: string;
  /** The CSR to upload (sign-csr). */
  csrPem?: string;
  /** Reminders sent so far, and when the last one went. */
  remindersSent: number;
  lastReminderAt?: string;
  /** When the task was escalated (its deadline near). */
  escalatedAt?: string;
  /** Token calls made to see whether the person did it (bind, unbind), and when the last one was. */
  checks: number;
  lastCheckAt?: string;
  /** When and by whom (certrotor's check, or an operator) the task was closed, and why. */
  closedAt?: string;
  closedBy?: string;
  note?: string;
  /** Revision, for compare-and-set. */
  rev: number;
}

/** What the opener gives; the store adds id, status, times, counters and rev. */
export type NewTask = Pick<
  HumanTask,
  "kind" | "credentialId" | "rotationId" | "bank" | "clientId" | "deadline"
> &
  Partial<Pick<HumanTask, "portalUrl" | "certPem" | "fingerprint" | "notAfter" | "csrPem">>;

/** The fields a later write may change. */
export type TaskPatch = Partial<
  Pick<
    HumanTask,
    | "status"
    | "remindersSent"
    | "lastReminderAt"
    | "escalatedAt"
    | "checks"
    | "lastCheckAt"
    | "closedAt"
    | "closedBy"
    | "note"
    | "certPem"
    | "fingerprint"
    | "notAfter"
  >
>;

export interface TaskFilter {
  status?: TaskStatus;
  credentialId?: string;
  rotationId?: string;
}

export interface TaskStore {
  /**
   * Opens the task of (rotation, kind); when it exists already (open or closed) that task is returned
   * unchanged, so an opener run twice makes one task. `created` says which.
   */
  open(task: NewTask, now: Date, fence?: Fence): Promise<{ task: HumanTask; created: boolean }>;
  get(id: string): Promise<HumanTask | null>;
  /** Newest first. */
  list(filter?: TaskFilter): Promise<HumanTask[]>;
  /**
   * Merges `patch` (compare-and-set on rev, retried on a concurrent change). A closed task refuses a
   * change of status (TASK_CLOSED); UNKNOWN_TASK when there is none with this id.
   */
  update(id: string, patch: TaskPatch, now: Date, fence?: Fence): Promise<HumanTask>;
  /**
   * Applies `patch` only if the task is still at revision `rev` (no retry): null when it changed since.
   * Lets one of several processes claim a one-time action (a reminder, an escalation).
   */
  claim(id: string, rev: number, patch: TaskPatch, now: Date): Promise<HumanTask | null>;
  close(): Promise<void>;
}

/** The task id of (rotation, kind): the same every time, so opening is idempotent. */
export function taskId(rotationId: string, kind: TaskKind): string {
  const digest = createHash("sha256").update(`${rotationId}|${kind}`).digest("hex").slice(0, 16);
  return `task_${digest}`;
}

export function isOpen(task: HumanTask): boolean {
  return task.status === "open";
}
