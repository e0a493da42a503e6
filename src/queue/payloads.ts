/**
 * Job data schemas. Job data carries references (credential id, rotation id) and safe facts only —
 * never keys, PFX, passphrases, client secrets or tokens (invariant 7). Processors parse with these.
 */
import { z } from "zod";

const id = z.string().min(1).max(200);

export const rotateJobData = z.strictObject({
  credentialId: id,
  rotationId: id,
  trigger: z.enum(["schedule", "on-demand", "operator", "inline"]),
  /** May free a slot held by a stale cert certrotor issued (rotate --force). */
  unbindStale: z.boolean().optional(),
  /** notAfter of the cert being replaced, for expiry-aware backoff. */
  notAfter: z.iso.datetime().optional(),
});
export type RotateJobData = z.infer<typeof rotateJobData>;

export const retireJobData = z.strictObject({ credentialId: id, rotationId: id });
export type RetireJobData = z.infer<typeof retireJobData>;

export const scanJobData = z.strictObject({}).catchall(z.never());

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
  at: z.iso.datetime(),
});
export type NotifyJobData = z.infer<typeof notifyJobData>;
