/**
 * The metrics observer of rotation attempts: each step's duration (the saga measures it on the
 * monotonic clock, never the injected `now`), and, when promote takes effect, the new certificate's
 * not-after at once instead of at the next scan.
 */
import type { RotationObserver } from "../rotation/context.js";
import type { WorkerMetrics } from "./metrics.js";

export function stepMetrics(
  metrics: Pick<WorkerMetrics, "recordStepDuration" | "recordCertificate">,
): RotationObserver {
  return (event) => {
    if (event.kind === "step-finished") metrics.recordStepDuration(event.step, event.ms / 1000);
    else if (event.kind === "promoted") metrics.recordCertificate(event.credentialId, event.notAfter);
  };
}
