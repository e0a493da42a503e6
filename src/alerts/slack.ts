/**
 * Slack incoming webhook: `text` (the notification line, also what clients without blocks show) and
 * Block Kit blocks a person reads at a glance: header, what happened, the facts, what to check.
 * The webhook URL is the secret: it never appears in errors.
 */
import type { AlertChannelConfig } from "../config/schema.js";
import { alertFields, alertTitle } from "./format.js";
import { postJson, readChannelCa } from "./http.js";
import type { Alert, Channel } from "./types.js";
import type { HttpChannelOptions } from "./webhook.js";

type SlackConfig = Extract<AlertChannelConfig, { kind: "slack" }>;

const ICON: Readonly<Record<Alert["severity"], string>> = {
  critical: ":rotating_light:",
  error: ":red_circle:",
  warning: ":warning:",
  info: ":information_source:",
};

/** Slack mrkdwn treats these three as control characters. */
function escapeMrkdwn(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function slackMessage(alert: Alert): Record<string, unknown> {
  const icon = alert.action === "resolve" ? ":white_check_mark:" : ICON[alert.severity];
  const title = alertTitle(alert);
  // the hint gets its own block: it is the line an operator acts on
  const facts = alertFields(alert).filter(([label]) => label !== "Hint" && label !== "Dedup key");
  const blocks: Array<Record<string, unknown>> = [
    { type: "header", text: { type: "plain_text", text: clip(title, 150), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: clip(`${icon} ${escapeMrkdwn(alert.message)}`, 3000) } },
    {
      type: "section",
      fields: facts.slice(0, 10).map(([label, value]) => ({
        type: "mrkdwn",
        text: clip(`*${label}*\n${escapeMrkdwn(value)}`, 2000),
      })),
    },
  ];
  if (alert.hint) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*What to check:* ${escapeMrkdwn(alert.hint)}`, 3000) },
    });
  }
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: `certrotor · dedup key \`${escapeMrkdwn(alert.dedupKey)}\`` }],
  });
  return { text: `${icon} ${escapeMrkdwn(title)}: ${escapeMrkdwn(alert.message)}`, blocks };
}

export function createSlackChannel(name: string, config: SlackConfig, options: HttpChannelOptions): Channel {
  const caPem = readChannelCa(name, config.caFile);
  return {
    name,
    kind: "slack",
    async send(alert: Alert) {
      await postJson(
        { channel: name, kind: "slack", url: config.url, timeoutMs: options.timeoutMs, caPem },
        JSON.stringify(slackMessage(alert)),
      );
    },
  };
}
