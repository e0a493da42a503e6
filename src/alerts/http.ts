/**
 * One JSON POST to an alert endpoint with Node's global fetch (undici): bounded by a timeout, TLS
 * verified as always, and failures mapped to ALERT_DELIVERY_FAILED that name the channel and the HTTP
 * status but never the URL (Slack's and PagerDuty's URLs and keys are secrets).
 */
import { CertrotorError } from "../errors.js";
import type { ChannelKind } from "./types.js";

export interface PostTarget {
  channel: string;
  kind: ChannelKind;
  url: string;
  timeoutMs: number;
}

/** 408 and 429 and 5xx may pass later; other 4xx mean the request or the config is wrong. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A cause for logs that keeps the error's name and code but drops its text (undici may quote the URL). */
function safeCause(error: unknown): Error {
  const inner = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof inner?.code === "string" ? inner.code : undefined;
  const name = error instanceof Error ? error.name : "Error";
  return new Error(code ? `${name} (${code})` : name);
}

export async function postJson(
  target: PostTarget,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  const where = `alert channel "${target.channel}" (${target.kind})`;
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "certrotor", ...headers },
      body,
      redirect: "error",
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    const timedOut = (error as Error | undefined)?.name === "TimeoutError";
    const cause = safeCause(error);
    throw new CertrotorError(
      "ALERT_DELIVERY_FAILED",
      timedOut
        ? `${where} did not answer within ${target.timeoutMs} ms`
        : `${where} could not be reached: ${cause.message}`,
      {
        cause,
        retryable: true,
        details: { channel: target.channel, kind: target.kind, reason: timedOut ? "timeout" : "network" },
      },
    );
  }
  // read the body to the end so the connection can be reused; its text is not needed
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return;
  throw new CertrotorError("ALERT_DELIVERY_FAILED", `${where} answered HTTP ${response.status}`, {
    retryable: retryableStatus(response.status),
    details: { channel: target.channel, kind: target.kind, status: response.status },
  });
}
