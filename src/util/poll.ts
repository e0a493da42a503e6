/**
 * Polls `probe` until it returns a value (not undefined), every `everyMs`, for at most `timeoutMs`; then
 * throws naming `what` and the last failure. For states that announce themselves on no channel one can
 * subscribe to (a cluster's topology, a replica's role), always with a bound.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface PollOptions {
  timeoutMs: number;
  everyMs?: number;
  /** What is awaited, for the error: "a replica of 127.0.0.1:7001 promoted". */
  what: string;
}

export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const until = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= until) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${why}`);
    }
    await sleep(options.everyMs ?? 100);
  }
}
