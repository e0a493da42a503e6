/**
 * The generic webhook: the alert as JSON, signed so the receiver can check it came from certrotor and
 * was not replayed.
 *
 *   X-Certrotor-Timestamp: <unix seconds>
 *   X-Certrotor-Signature: sha256=<lowercase hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 *   X-Certrotor-Event-Id: evt_<32 hex>   (also `eventId` in the signed body)
 *
 * The receiver recomputes the HMAC over the raw body bytes it received (before any JSON parsing),
 * compares in constant time, and refuses timestamps further than its tolerance from its clock (5 min
 * is usual): `verifyWebhookSignature` does all three. The scheme is Stripe's and Slack's. The event id
 * is the same for every delivery of one alert (a retry, or an attacker replaying a captured request
 * within the tolerance) and differs between alerts, so a receiver that remembers the ids it accepted
 * for the tolerance window drops replays and duplicate retries alike.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { AlertChannelConfig } from "../config/schema.js";
import { alertDocument } from "./format.js";
import { postJson, readChannelCa } from "./http.js";
import type { Alert, Channel } from "./types.js";

export const TIMESTAMP_HEADER = "x-certrotor-timestamp";
export const SIGNATURE_HEADER = "x-certrotor-signature";
export const EVENT_ID_HEADER = "x-certrotor-event-id";

/** One id per alert event: what happened (action, kind), to which episode, and when. */
export function webhookEventId(alert: Pick<Alert, "action" | "kind" | "dedupKey" | "at">): string {
  const digest = createHash("sha256")
    .update([alert.action, alert.kind, alert.dedupKey, alert.at].join("\n"))
    .digest("hex");
  return `evt_${digest.slice(0, 32)}`;
}

type WebhookConfig = Extract<AlertChannelConfig, { kind: "webhook" }>;

/** `sha256=<hex>` over `"<timestamp>.<body>"`. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * True when `signature` is the HMAC of this timestamp and body under `secret` and the timestamp is
 * within `toleranceMs` of `nowMs`. `body` must be the raw request body as received.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
  toleranceMs: number,
  nowMs: number = Date.now(),
): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs - Number(timestamp) * 1000) > toleranceMs) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface HttpChannelOptions {
  timeoutMs: number;
  now?: () => Date;
}

export function createWebhookChannel(
  name: string,
  config: WebhookConfig,
  options: HttpChannelOptions,
): Channel {
  const now = options.now ?? (() => new Date());
  const caPem = readChannelCa(name, config.caFile);
  return {
    name,
    kind: "webhook",
    async send(alert: Alert) {
      const eventId = webhookEventId(alert);
      const body = JSON.stringify({ eventId, ...alertDocument(alert) });
      const timestamp = String(Math.floor(now().getTime() / 1000));
      await postJson(
        { channel: name, kind: "webhook", url: config.url, timeoutMs: options.timeoutMs, caPem },
        body,
        {
          [EVENT_ID_HEADER]: eventId,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(config.secret, timestamp, body),
        },
      );
    },
  };
}
