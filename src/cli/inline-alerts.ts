/**
 * Alerts of the commands that run without a worker (`rotate --inline`, `retire-due`): episodes in the
 * state dir, delivered from this process (alerts/direct-sink.ts), and one output line per alert saying
 * where it went.
 */
import { createDirectSink } from "../alerts/direct-sink.js";
import type { RotationAlertDeps } from "../alerts/rotation-alerts.js";
import type { Runtime } from "../runtime.js";

export interface InlineAlerts {
  deps: RotationAlertDeps;
  close(): Promise<void>;
}

export function inlineAlerts(runtime: Runtime, print: (line: string) => void): InlineAlerts {
  const sink = createDirectSink(runtime.config, {
    logger: runtime.logger,
    onDelivered: (data, state) => {
      const parts = [
        ...(state.delivered.length ? [`delivered to ${state.delivered.join(", ")}`] : []),
        ...(state.abandoned.length ? [`given up on ${state.abandoned.join(", ")}`] : []),
      ];
      print(`  alert ${data.kind}: ${parts.join("; ") || "no channel routed"}`);
    },
  });
  return {
    deps: {
      episodes: runtime.episodes,
      sink,
      now: runtime.now,
      logger: runtime.logger,
      notifyOnSuccess: runtime.config.alerts.notifyOnSuccess,
    },
    close: () => sink.close(),
  };
}
