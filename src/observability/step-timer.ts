/**
 * The metrics hook of one rotation attempt: a step lasts from its `<step>:start` to the next step's
 * start, to `done:end`, or to the end of the attempt (`end()`, also after a failure). Measured on the
 * monotonic clock, never the injected `now` (tests move that one). When promote takes effect, the new
 * certificate's not-after is published at once instead of at the next scan.
 */
import { performance } from "node:perf_hooks";
import { STEPS, type StepName } from "../journal/types.js";
import type { HookPoint, RotationHooks, RotationState } from "../rotation/context.js";
import type { WorkerMetrics } from "./metrics.js";

export interface StepTimer extends RotationHooks {
  /** Closes the step still open (the attempt ended, returned or threw). Idempotent. */
  end(): void;
}

const isStep = (name: string): name is StepName => (STEPS as readonly string[]).includes(name);

export function stepTimer(
  metrics: Pick<WorkerMetrics, "recordStepDuration" | "recordCertificate">,
): StepTimer {
  let open: { step: StepName; startedAt: number } | undefined;
  const close = (): void => {
    if (!open) return;
    metrics.recordStepDuration(open.step, (performance.now() - open.startedAt) / 1000);
    open = undefined;
  };
  return {
    at(point: HookPoint, state: Readonly<RotationState>) {
      const [step, phase] = point.split(":") as [string, string];
      if (phase === "start" && isStep(step)) {
        close();
        open = { step, startedAt: performance.now() };
      } else if (point === "done:end") {
        close();
      } else if (point === "promote:effect" && state.staged) {
        metrics.recordCertificate(state.credential.id, new Date(state.staged.notAfter));
      }
    },
    end: close,
  };
}
