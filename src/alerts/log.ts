/**
 * The log channel: the alert as one structured log line (warn for triggers, info for resolves and
 * notices). It is the default when no channel is configured, so an alert is never dropped silently.
 */
import type { Logger } from "../observability/logger.js";
import { alertTitle } from "./format.js";
import type { Alert, Channel } from "./types.js";

export function createLogChannel(name: string, logger: Logger): Channel {
  const log = logger.child({ channel: name });
  return {
    name,
    kind: "log",
    async send(alert: Alert) {
      const line = `alert: ${alertTitle(alert)}: ${alert.message}`;
      if (alert.action === "trigger" && alert.severity !== "info") log.warn({ alert }, line);
      else log.info({ alert }, line);
    },
  };
}
