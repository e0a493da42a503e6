/**
 * PagerDuty Events API v2 (POST /v2/enqueue, 202 Accepted). A failure episode is one incident:
 * `trigger` with `dedup_key` = `certrotor/<credentialId>/<kind>` (a repeated trigger with the same key
 * only adds to the open incident), and `resolve` with the same key when the credential next rotates.
 * Success notices are not incidents and are not sent. The routing key is a secret: never in errors.
 */
import type { AlertChannelConfig } from "../config/schema.js";
import { alertTitle } from "./format.js";
import { postJson, readChannelCa } from "./http.js";
import type { Alert, Channel } from "./types.js";
import type { HttpChannelOptions } from "./webhook.js";

type PagerDutyConfig = Extract<AlertChannelConfig, { kind: "pagerduty" }>;

/** The event body; `routing_key` is added by the channel. */
export function pagerDutyEvent(alert: Alert): Record<string, unknown> {
  if (alert.action === "resolve") return { event_action: "resolve", dedup_key: alert.dedupKey };
  const summary = `${alertTitle(alert)}: ${alert.message}`;
  const details: Record<string, string> = {};
  for (const key of [
    "credentialId",
    "clientId",
    "subject",
    "fingerprint",
    "notAfter",
    "step",
    "rotationId",
    "errorCode",
    "errorSummary",
    "hint",
  ] as const) {
    const value = alert[key];
    if (value) details[key] = value;
  }
  return {
    event_action: "trigger",
    dedup_key: alert.dedupKey,
    client: "certrotor",
    payload: {
      summary: summary.length > 1024 ? `${summary.slice(0, 1023)}…` : summary,
      source: `certrotor/${alert.credentialId}`,
      severity: alert.severity,
      timestamp: alert.at,
      component: alert.credentialId,
      group: "certrotor",
      class: alert.kind,
      custom_details: details,
    },
  };
}

export function createPagerDutyChannel(
  name: string,
  config: PagerDutyConfig,
  options: HttpChannelOptions,
): Channel {
  const caPem = readChannelCa(name, config.caFile);
  return {
    name,
    kind: "pagerduty",
    async send(alert: Alert) {
      if (alert.action === "notify") return;
      const body = JSON.stringify({ routing_key: config.routingKey, ...pagerDutyEvent(alert) });
      await postJson(
        { channel: name, kind: "pagerduty", url: config.url, timeoutMs: options.timeoutMs, caPem },
        body,
      );
    },
  };
}
