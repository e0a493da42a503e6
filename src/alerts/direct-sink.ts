/**
 * Delivers alerts at once, in this process, instead of queueing notify jobs: for the commands that run
 * without Redis (`rotate --inline`, `retire-due`), which have no worker to deliver them. A command cannot
 * wait ten minutes for a channel, so it makes at most `INLINE_ATTEMPTS` attempts with the configured
 * backoff; then the failing channels are given up on (logged at error level), as after a notify job's
 * last attempt. A channel that accepted the alert is not sent it again. Never throws: alerting does not
 * change a command's outcome.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import type { NotifyJobData } from "../queue/payloads.js";
import { findConfigured } from "../rotation/credentials.js";
import { alertFromJob } from "./build.js";
import { type DeliveryState, deliverAttempt } from "./deliver.js";
import { closeChannels, createChannels, routeChannels } from "./index.js";
import type { AlertSink } from "./raise.js";
import type { Channel } from "./types.js";

/** Attempts per alert, the first included, when delivering inline. */
export const INLINE_ATTEMPTS = 3;

export interface DirectSinkOptions {
  logger: Logger;
  /** The channels by name (built from config when absent). */
  channels?: ReadonlyMap<string, Channel>;
  /** Told of every alert once its delivery ended (for the command's output). */
  onDelivered?: (data: NotifyJobData, state: DeliveryState) => void;
}

export interface DirectSink extends AlertSink {
  /** Closes the channels this sink built (an SMTP pool). */
  close(): Promise<void>;
}

export function createDirectSink(config: Readonly<Config>, options: DirectSinkOptions): DirectSink {
  const { logger } = options;
  const channels =
    options.channels ?? createChannels(config.alerts, { logger, timeoutMs: config.alerts.timeout });
  const attempts = Math.min(INLINE_ATTEMPTS, config.alerts.deliveryAttempts);
  return {
    async enqueueNotify(data) {
      const alert = alertFromJob(data);
      const routed = routeChannels(
        channels,
        data.channels ?? findConfigured(config, data.credentialId)?.alerts,
      );
      let state: DeliveryState = { delivered: [], abandoned: [] };
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const result = await deliverAttempt(alert, routed, state, {
          last: attempt === attempts,
          logger: logger.child({ credentialId: data.credentialId }),
        });
        state = result.state;
        if (!result.retry) break;
        await sleep(config.alerts.deliveryBackoff * 2 ** (attempt - 1));
      }
      options.onDelivered?.(data, state);
      return true;
    },
    async close() {
      if (!options.channels) await closeChannels(channels);
    },
  };
}
