/**
 * Email through SMTP with nodemailer: STARTTLS (or implicit TLS), AUTH, dot-stuffing and RFC 5322/2047
 * encoding are easy to get subtly wrong by hand, and nodemailer is the maintained standard for Node.
 * The server's certificate is always verified (an extra CA may be pinned with caFile). A plain-text
 * message carries the same title and fields as the other channels. nodemailer types stay in this file.
 */
import { readFileSync } from "node:fs";
import nodemailer from "nodemailer";
import type { AlertChannelConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { alertText, alertTitle } from "./format.js";
import type { Alert, Channel } from "./types.js";
import type { HttpChannelOptions } from "./webhook.js";

type EmailConfig = Extract<AlertChannelConfig, { kind: "email" }>;

function readCa(name: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CertrotorError("CONFIG_INVALID", `alerts.channels.${name}.caFile cannot be read: ${file}`, {
      cause: error,
    });
  }
}

/** Authentication and 5xx answers are final; 4xx answers and connection trouble may pass. */
function deliveryError(name: string, error: unknown): CertrotorError {
  const failure = error as { code?: unknown; responseCode?: unknown } | undefined;
  const code = typeof failure?.code === "string" ? failure.code : "ERROR";
  const status = typeof failure?.responseCode === "number" ? failure.responseCode : undefined;
  const retryable = code !== "EAUTH" && (status === undefined || status < 500);
  return new CertrotorError(
    "ALERT_DELIVERY_FAILED",
    `alert channel "${name}" (email): SMTP ${code}${status ? ` ${status}` : ""}`,
    // the cause keeps only the code: nodemailer's text may echo the server's answer
    { cause: new Error(code), retryable, details: { channel: name, kind: "email", code, status } },
  );
}

export function createEmailChannel(name: string, config: EmailConfig, options: HttpChannelOptions): Channel {
  const ca = config.caFile ? readCa(name, config.caFile) : undefined;
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.requireTLS,
    ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
    ...(ca ? { tls: { ca } } : {}),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    name,
    kind: "email",
    async send(alert: Alert) {
      try {
        await transport.sendMail({
          from: config.from,
          to: config.to,
          subject: `certrotor ${alertTitle(alert)}`,
          text: alertText(alert),
          headers: { "X-Certrotor-Dedup-Key": alert.dedupKey, "X-Certrotor-Kind": alert.kind },
        });
      } catch (error) {
        throw deliveryError(name, error);
      }
    },
    async close() {
      transport.close();
    },
  };
}
