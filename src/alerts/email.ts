/**
 * Email through SMTP with nodemailer: STARTTLS (or implicit TLS), AUTH, dot-stuffing and RFC 5322/2047
 * encoding are easy to get subtly wrong by hand, and nodemailer is the maintained standard for Node.
 * The server's certificate is always verified (rejectUnauthorized set explicitly, so the environment
 * cannot switch it off; a CA may be pinned with caFile), and STARTTLS is required unless the config says
 * `insecure: true`. A plain-text
 * message carries the same title and fields as the other channels. nodemailer types stay in this file.
 */
import type { Transporter } from "nodemailer";
import type { AlertChannelConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { alertText, alertTitle } from "./format.js";
import { readChannelCa } from "./http.js";
import type { Alert, Channel } from "./types.js";
import type { HttpChannelOptions } from "./webhook.js";

type EmailConfig = Extract<AlertChannelConfig, { kind: "email" }>;

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
  const ca = readChannelCa(name, config.caFile);
  // nodemailer is loaded at the first alert sent by email, not with every process whose config names a channel
  let transport: Promise<Transporter> | undefined;
  const open = async (): Promise<Transporter> => {
    const { default: nodemailer } = await import("nodemailer");
    return nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      // on by default: no MAIL and no AUTH before STARTTLS (the schema allows false only with insecure: true)
      requireTLS: config.requireTLS,
      ignoreTLS: false,
      ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
      // explicit, so no environment setting can turn verification off
      tls: { rejectUnauthorized: true, minVersion: "TLSv1.2", ...(ca ? { ca } : {}) },
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    });
  };
  return {
    name,
    kind: "email",
    async send(alert: Alert) {
      try {
        transport ??= open();
        await (await transport).sendMail({
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
      (await transport?.catch(() => undefined))?.close();
    },
  };
}
