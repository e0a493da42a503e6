/**
 * How an alert reads: one title line and labelled fields, shared by the Slack, email and log channels
 * and the PagerDuty summary, so every channel says the same thing in the same words.
 */
import type { Alert, AlertKind } from "./types.js";

const LABEL: Readonly<Record<AlertKind, string>> = {
  "rotation-failed": "certificate rotation failed",
  "verify-failed-rolled-back": "new certificate failed verification and was rolled back",
  "slots-full": "both certificate slots are taken by certificates certrotor does not own",
  "rotation-overdue": "certificate rotation is overdue",
  "rotation-stuck": "certificate rotation is stuck in one step",
  drift: "store and bank disagree about the bound certificates",
  "critical-window": "certificate expires soon and is not rotated yet",
  expired: "certificate has expired",
  "consumers-on-old-cert": "consumers still use the old certificate",
  "manual-task": "a person must act in the bank's portal",
  "manual-task-reminder": "reminder: a person must act in the bank's portal",
  "manual-task-escalated": "a task in the bank's portal is near its deadline",
  "cut-over": "single-slot cut-over: the bank is unreachable with any certificate meanwhile",
  "rotation-succeeded": "certificate rotated",
  resolved: "resolved",
  test: "test alert",
};

export function kindLabel(kind: AlertKind): string {
  return LABEL[kind];
}

/** e.g. "[CRITICAL] certificate rotation failed: payments-prod" or "[RESOLVED] certificate rotation failed: ...". */
export function alertTitle(alert: Alert): string {
  if (alert.action === "resolve") {
    return `[RESOLVED] ${kindLabel(alert.resolves ?? alert.kind)}: ${alert.credentialId}`;
  }
  return `[${alert.severity.toUpperCase()}] ${kindLabel(alert.kind)}: ${alert.credentialId}`;
}

/** Labelled facts in reading order; absent facts are left out. */
export function alertFields(alert: Alert): Array<[label: string, value: string]> {
  const fields: Array<[string, string | undefined]> = [
    ["Credential", alert.credentialId],
    ["client_id", alert.clientId],
    ["Subject", alert.subject],
    ["Fingerprint (SHA-256)", alert.fingerprint],
    ["Not after", alert.notAfter],
    ["Step", alert.step],
    [
      "Error",
      alert.errorCode
        ? `${alert.errorCode}${alert.errorSummary ? ` (${alert.errorSummary})` : ""}`
        : undefined,
    ],
    ["Hint", alert.hint],
    ["Task", alert.taskId],
    ["Portal", alert.portalUrl],
    ["Deadline", alert.deadline],
    ["Rotation", alert.rotationId],
    ["Dedup key", alert.dedupKey],
    ["At", alert.at],
  ];
  return fields.filter((field): field is [string, string] => field[1] !== undefined && field[1] !== "");
}

/** The plain-text form (email body, log line): title, message, then one "Label: value" per line. */
export function alertText(alert: Alert): string {
  const lines = [alertTitle(alert), "", alert.message, ""];
  for (const [label, value] of alertFields(alert)) lines.push(`${label}: ${value}`);
  return `${lines.join("\n")}\n`;
}

/** The JSON document of the generic webhook: the alert's safe facts, versioned. */
export function alertDocument(alert: Alert): Record<string, unknown> {
  return { version: 1, source: "certrotor", title: alertTitle(alert), ...alert };
}
