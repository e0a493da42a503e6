/**
 * Turns a notify job's data (safe facts) into an Alert: severity and action by kind, the dedup key of
 * the episode, and the error code's one-line meaning from the error registry.
 */
import { ERROR_CODES, type ErrorCode } from "../errors.js";
import type { NotifyJobData } from "../queue/payloads.js";
import { parseEpisodeKey } from "./episodes.js";
import type { Alert, AlertAction, AlertKind, AlertSeverity } from "./types.js";

/** How urgent each kind is; "resolved" and notices are information. */
export const SEVERITY: Readonly<Record<AlertKind, AlertSeverity>> = {
  "rotation-failed": "critical",
  "verify-failed-rolled-back": "critical",
  "slots-full": "critical",
  expired: "critical",
  "critical-window": "error",
  "rotation-overdue": "warning",
  "rotation-stuck": "warning",
  drift: "warning",
  "consumers-on-old-cert": "warning",
  "manual-task": "warning",
  "manual-task-reminder": "warning",
  "manual-task-escalated": "critical",
  "cut-over": "warning",
  "rotation-succeeded": "info",
  resolved: "info",
  test: "info",
};

export function actionOf(kind: AlertKind): AlertAction {
  if (kind === "resolved") return "resolve";
  if (kind === "rotation-succeeded" || kind === "manual-task-reminder" || kind === "cut-over")
    return "notify";
  return "trigger";
}

function summaryOf(code: string | undefined): string | undefined {
  if (!code || !Object.hasOwn(ERROR_CODES, code)) return undefined;
  return ERROR_CODES[code as ErrorCode].summary;
}

/** Copies only the known safe fields: an unexpected field in job data never reaches a channel. */
export function alertFromJob(data: NotifyJobData): Alert {
  const resolves = data.kind === "resolved" ? parseEpisodeKey(data.episode)?.kind : undefined;
  const errorSummary = summaryOf(data.errorCode);
  return {
    kind: data.kind,
    ...(resolves ? { resolves } : {}),
    action: actionOf(data.kind),
    severity: SEVERITY[data.kind],
    dedupKey: data.episode,
    credentialId: data.credentialId,
    ...(data.clientId ? { clientId: data.clientId } : {}),
    ...(data.subject ? { subject: data.subject } : {}),
    ...(data.fingerprint ? { fingerprint: data.fingerprint } : {}),
    ...(data.notAfter ? { notAfter: data.notAfter } : {}),
    ...(data.step ? { step: data.step } : {}),
    ...(data.rotationId ? { rotationId: data.rotationId } : {}),
    ...(data.errorCode ? { errorCode: data.errorCode } : {}),
    ...(errorSummary ? { errorSummary } : {}),
    message: data.message,
    ...(data.hint ? { hint: data.hint } : {}),
    ...(data.taskId ? { taskId: data.taskId } : {}),
    ...(data.portalUrl ? { portalUrl: data.portalUrl } : {}),
    ...(data.deadline ? { deadline: data.deadline } : {}),
    at: data.at,
  };
}

/** The alert `certrotor alert test` sends. */
export function testAlert(channelName: string, now: Date, action: "trigger" | "resolve" = "trigger"): Alert {
  return {
    kind: action === "resolve" ? "resolved" : "test",
    ...(action === "resolve" ? { resolves: "test" as const } : {}),
    action,
    severity: "info",
    dedupKey: "certrotor/test/test",
    credentialId: "test",
    message:
      action === "resolve"
        ? `certrotor test alert resolved (channel "${channelName}")`
        : `certrotor test alert: channel "${channelName}" is reachable`,
    at: now.toISOString(),
  };
}
