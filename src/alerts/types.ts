/**
 * The alerts port: what an alert carries and what a channel does with it. An Alert holds safe facts only
 * (ids, fingerprints, dates, error codes and hints) — never keys, PFX, passphrases, client secrets or
 * tokens (invariant 7) — so every channel may send all of it.
 *
 * Adapters, one per file beside this one: log.ts, webhook.ts (signed JSON), slack.ts (incoming webhook),
 * pagerduty.ts (Events API v2), email.ts (SMTP). The registry is index.ts.
 */
import type { AlertKind } from "../queue/payloads.js";

export type { AlertKind } from "../queue/payloads.js";

export const CHANNEL_KINDS = ["log", "webhook", "slack", "pagerduty", "email"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** PagerDuty's four levels, used by every channel. */
export type AlertSeverity = "critical" | "error" | "warning" | "info";

/**
 * trigger: a failure episode began (or a test); resolve: it ended (same dedup key);
 * notify: information only (a success notice), which incident tools (PagerDuty) skip.
 */
export type AlertAction = "trigger" | "resolve" | "notify";

export interface Alert {
  kind: AlertKind;
  /** For a resolve: the failure kind whose episode ended. */
  resolves?: AlertKind;
  action: AlertAction;
  severity: AlertSeverity;
  /** `certrotor/<credentialId>/<kind>`: stable across attempts and scans; a resolve reuses it. */
  dedupKey: string;
  credentialId: string;
  clientId?: string;
  subject?: string;
  /** SHA-256 of the certificate concerned, lowercase hex. */
  fingerprint?: string;
  /** ISO 8601. */
  notAfter?: string;
  step?: string;
  rotationId?: string;
  errorCode?: string;
  /** The error code's one-line meaning (src/errors.ts), e.g. seed 001's "403 Forbidden: ...". */
  errorSummary?: string;
  /** One safe line saying what happened. */
  message: string;
  /** What to check (seed 001's troubleshooting rows for bank failures). */
  hint?: string;
  /** A human task: its id, the bank's portal and the task's deadline (manual-task alerts). */
  taskId?: string;
  portalUrl?: string;
  deadline?: string;
  /** When the condition was seen, ISO 8601. */
  at: string;
}

export interface Channel {
  readonly name: string;
  readonly kind: ChannelKind;
  /**
   * Delivers one alert or throws ALERT_DELIVERY_FAILED naming the channel (and HTTP status), never its
   * URL or key. `retryable` says whether another attempt may help.
   */
  send(alert: Alert): Promise<void>;
  /** Releases connections (SMTP pools); optional. */
  close?(): Promise<void>;
}
