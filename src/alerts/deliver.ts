/**
 * One delivery attempt of one alert to its channels, all at once. The state (channels that accepted
 * it, channels given up on) is kept by the caller between attempts (the notify job's progress), so a
 * retry sends only to the channels that failed. A channel that keeps failing is given up on after the
 * last attempt: logged at error level and counted, never retried forever, never blocking anything.
 */
import { type CertrotorError, toCertrotorError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { Alert, Channel, ChannelKind } from "./types.js";

export type DeliveryOutcome = "delivered" | "failed" | "given-up";

/** Where delivery outcomes are counted (a metrics counter by channel and outcome). */
export interface DeliveryRecorder {
  record(channel: string, kind: ChannelKind, outcome: DeliveryOutcome): void;
}

export interface DeliveryState {
  delivered: string[];
  abandoned: string[];
}

/** Reads the state saved by an earlier attempt (job progress); anything else is a fresh start. */
export function deliveryState(saved: unknown): DeliveryState {
  const value = saved as Partial<Record<keyof DeliveryState, unknown>> | null | undefined;
  const names = (list: unknown): string[] =>
    Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
  return { delivered: names(value?.delivered), abandoned: names(value?.abandoned) };
}

export interface AttemptResult {
  state: DeliveryState;
  failures: Array<{ channel: string; error: CertrotorError }>;
  /** True when some channel failed in a way another attempt may fix. */
  retry: boolean;
  /** True when this attempt gave up on some channel. */
  gaveUp: boolean;
}

export interface AttemptOptions {
  /** No attempt follows this one: every failing channel is given up on. */
  last: boolean;
  logger: Logger;
  recorder?: DeliveryRecorder;
}

export async function deliverAttempt(
  alert: Alert,
  routed: readonly Channel[],
  previous: DeliveryState,
  options: AttemptOptions,
): Promise<AttemptResult> {
  const done = new Set([...previous.delivered, ...previous.abandoned]);
  const pending = routed.filter((channel) => !done.has(channel.name));
  const settled = await Promise.allSettled(pending.map((channel) => channel.send(alert)));
  const state = { delivered: [...previous.delivered], abandoned: [...previous.abandoned] };
  const result: AttemptResult = { state, failures: [], retry: false, gaveUp: false };
  const where = { credentialId: alert.credentialId, kind: alert.kind, dedupKey: alert.dedupKey };
  settled.forEach((outcome, i) => {
    const channel = pending[i]!;
    if (outcome.status === "fulfilled") {
      state.delivered.push(channel.name);
      options.recorder?.record(channel.name, channel.kind, "delivered");
      return;
    }
    const error = toCertrotorError(outcome.reason, "ALERT_DELIVERY_FAILED");
    result.failures.push({ channel: channel.name, error });
    const log = {
      ...where,
      channel: channel.name,
      err: { code: error.code, message: error.message, ...error.details },
    };
    if (error.retryable && !options.last) {
      result.retry = true;
      options.recorder?.record(channel.name, channel.kind, "failed");
      options.logger.warn(log, `alert delivery to "${channel.name}" failed; will retry`);
      return;
    }
    state.abandoned.push(channel.name);
    result.gaveUp = true;
    options.recorder?.record(channel.name, channel.kind, "given-up");
    options.logger.error(log, `alert delivery to "${channel.name}" given up`);
  });
  return result;
}
