/**
 * One JSON POST to an alert endpoint with node:https (node:http only for a plain-http URL the config let
 * through: loopback, or `insecureHttp: true`). TLS is verified with `rejectUnauthorized: true` set
 * explicitly, so no environment setting can turn it off, against the channel's pinned CA
 * (`caFile`) or else Node's default roots. Bounded by a timeout; redirects are not followed (a 3xx is a
 * failure). Failures are ALERT_DELIVERY_FAILED naming the channel and the HTTP status but never the URL
 * (Slack's and PagerDuty's URLs and keys are secrets).
 */
import { readFileSync } from "node:fs";
import { type ClientRequest, type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { CertrotorError } from "../errors.js";
import type { ChannelKind } from "./types.js";

export interface PostTarget {
  channel: string;
  kind: ChannelKind;
  url: string;
  timeoutMs: number;
  /** PEM bundle the receiver's certificate must chain to; undefined = Node's default roots. */
  caPem?: string | undefined;
}

/** The channel's `caFile` as PEM text (read once, when the channel is made). */
export function readChannelCa(channel: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CertrotorError("CONFIG_INVALID", `alerts.channels.${channel}.caFile cannot be read: ${file}`, {
      cause: error,
      details: { channel },
    });
  }
}

/** 408 and 429 and 5xx may pass later; other 4xx (and 3xx: no redirects) mean the request or config is wrong. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A cause for logs that keeps the error's name and code but drops its text (it may quote the URL). */
function safeCause(error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const name = error instanceof Error ? error.name : "Error";
  return new Error(typeof code === "string" ? `${name} (${code})` : name);
}

function send(target: PostTarget, body: string, headers: Readonly<Record<string, string>>) {
  const url = new URL(target.url);
  const options = {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "user-agent": "certrotor",
      ...headers,
    },
    timeout: target.timeoutMs,
  };
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req: ClientRequest =
      url.protocol === "http:"
        ? httpRequest(url, options)
        : httpsRequest(url, {
            ...options,
            rejectUnauthorized: true,
            ...(target.caPem !== undefined ? { ca: target.caPem } : {}),
            minVersion: "TLSv1.2",
          });
    // one bound for connect, handshake and answer: `timeout` alone only covers idle sockets
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error("timed out"), { name: "TimeoutError" })),
      target.timeoutMs,
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { name: "TimeoutError" })));
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (response) => {
      // read the body to the end so the socket is released; its text is not needed
      response.resume();
      response.on("end", () => clearTimeout(timer));
      response.on("error", () => clearTimeout(timer));
      resolve(response);
    });
    req.end(body);
  });
}

export async function postJson(
  target: PostTarget,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  const where = `alert channel "${target.channel}" (${target.kind})`;
  let status: number;
  try {
    status = (await send(target, body, headers)).statusCode ?? 0;
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
  if (status >= 200 && status < 300) return;
  throw new CertrotorError("ALERT_DELIVERY_FAILED", `${where} answered HTTP ${status}`, {
    retryable: retryableStatus(status),
    details: { channel: target.channel, kind: target.kind, status },
  });
}
