/**
 * Step-by-step progress on one line per step with its duration, fed by the saga's named hook points.
 */
import { performance } from "node:perf_hooks";
import type { HookPoint, RotationHooks } from "../rotation/context.js";

export function progressHooks(
  write: (line: string) => void,
  inner?: RotationHooks,
): RotationHooks & { flush(): void } {
  let current: { step: string; startedAt: number } | undefined;
  const flush = (): void => {
    if (current) write(`  ${current.step.padEnd(9)} ${Math.round(performance.now() - current.startedAt)} ms`);
    current = undefined;
  };
  return {
    async at(point: HookPoint, state) {
      const [step, phase] = point.split(":") as [string, string];
      if (phase === "start" && step !== current?.step) {
        flush();
        current = { step, startedAt: performance.now() };
      }
      await inner?.at(point, state);
    },
    flush,
  };
}
