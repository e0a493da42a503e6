/**
 * Step-by-step progress of a rotation run in this process: one line per step with its duration, from the
 * saga's step-finished events.
 */
import type { RotationObserver } from "../rotation/context.js";

export function progressLines(write: (line: string) => void): RotationObserver {
  return (event) => {
    if (event.kind === "step-finished") write(`  ${event.step.padEnd(9)} ${Math.round(event.ms)} ms`);
  };
}
