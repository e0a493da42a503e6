/**
 * Job data schemas. Job data carries references (credential id, rotation id) and safe facts only —
 * never keys, PFX, passphrases, client secrets or tokens (invariant 7). Processors parse with these.
 */
import { z } from "zod";
import type { DiscoverySource } from "../rotation/credentials.js";

const id = z.string().min(1).max(200);

/**
 * Where discovery found the job's credential (rule key, store, path), so the job rebuilds it from the config
 * without listing the store. Absent for configured credentials, and in jobs queued by older versions
 * (those resolve by id, listing).
 */
const discovery = z.strictObject({
  rule: z.string().min(1).max(64),
  store: id,
  path: z.string().min(1).max(2048),
}) satisfies z.ZodType<DiscoverySource>;

export const rotateJobData = z.strictObject({
  credentialId: id,
  rotationId: id,
  trigger: z.enum(["schedule", "on-demand", "operator", "inline"]),
  /** May free a slot held by a stale cert certrotor issued (rotate --force). */
  unbindStale: z.boolean().optional(),
  /** notAfter of the cert being replaced, for expiry-aware backoff. */
  notAfter: z.iso.datetime().optional(),
  discovery: discovery.optional(),
});
export type RotateJobData = z.infer<typeof rotateJobData>;

export const retireJobData = z.strictObject({
  credentialId: id,
  rotationId: id,
  discovery: discovery.optional(),
});
export type RetireJobData = z.infer<typeof retireJobData>;

export const ALERT_KINDS = [
  "rotation-failed",
  "verify-failed-rolled-back",
  "slots-full",
  "rotation-overdue",
  "rotation-stuck",
  "drift",
  "critical-window",
  "expired",
  "consumers-on-old-cert",
  "manual-task",
  "manual-task-reminder",
  "manual-task-escalated",
  "cut-over",
  "rotation-succeeded",
  "resolved",
  "test",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const notifyJobData = z.strictObject({
  kind: z.enum(ALERT_KINDS),
  /** Identifies the failure episode (dedup key): credential + failure kind. */
  episode: id,
  credentialId: id,
  clientId: z.string().optional(),
  rotationId: z.string().optional(),
  subject: z.string().optional(),
  fingerprint: z.string().optional(),
  notAfter: z.string().optional(),
  step: z.string().optional(),
  errorCode: z.string().optional(),
  message: z.string(),
  hint: z.string().optional(),
  /** A human task's id, and its portal URL and deadline (manual-task alerts). */
  taskId: z.string().optional(),
  portalUrl: z.string().optional(),
  deadline: z.string().optional(),
  /** Only these channels (names under alerts.channels): an escalation's tasks.escalateTo. */
  channels: z.array(id).optional(),
  at: z.iso.datetime(),
});
export type NotifyJobData = z.infer<typeof notifyJobData>;
