/**
 * Retry timing of a failed rotation attempt: capped exponential backoff with jitter, shrunk near expiry.
 *
 * The exact rule (all times in ms; `attempt` is the number of attempts already made, 1-based):
 *
 *   interval(k) = min(backoff · 2^(k−1), backoffMax)              the k-th retry interval
 *   jittered    = interval(attempt) · (1/2 + random()/2)          "equal jitter": in [interval/2, interval)
 *   latest      = notAfter − RESERVE_INTERVALS · interval(attempt) − now
 *   delay       = min(jittered, max(latest, backoff/2))
 *
 * So the next attempt never starts later than RESERVE_INTERVALS (3) intervals before notAfter: near
 * expiry the delay shrinks to reach that point, but never below half the base backoff (no hot loop
 * against a failing bank, even once the cert has expired). `null` once `attempts` are used up.
 */
import { CertrotorError } from "../errors.js";

export interface BackoffPolicy {
  attempts: number;
  backoff: number;
  backoffMax: number;
}

/** How many retry intervals of validity the next attempt must leave before notAfter. */
const RESERVE_INTERVALS = 3;

/** The k-th retry interval before jitter: capped exponential. */
export function retryInterval(k: number, policy: BackoffPolicy): number {
  // 2^(k−1) overflows to Infinity for large k, which min() caps; keep the exponent bounded anyway.
  const growth = 2 ** Math.min(Math.max(k - 1, 0), 52);
  return Math.min(policy.backoff * growth, policy.backoffMax);
}

/** The longest a full run of attempts spends waiting between them: Σ interval(k) for k < attempts. */
export function retryBudgetMs(policy: BackoffPolicy): number {
  let total = 0;
  for (let k = 1; k < policy.attempts; k++) total += retryInterval(k, policy);
  return total;
}

export interface RetryDelayInput {
  /** Attempts already made, 1-based (1 after the first failure). */
  attempt: number;
  policy: BackoffPolicy;
  /** notAfter of the cert currently in use (the one the rotation replaces). */
  notAfter: Date;
  now: Date;
  /** Uniform in [0, 1); Math.random by default. */
  random?: () => number;
}

/** Milliseconds to wait before the next attempt, or null when the attempts are exhausted. */
export function retryDelay(input: RetryDelayInput): number | null {
  const { attempt, policy } = input;
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new CertrotorError("INTERNAL", `retryDelay: attempt must be an integer >= 1, got ${attempt}`);
  }
  if (attempt >= policy.attempts) return null;
  const interval = retryInterval(attempt, policy);
  const random = input.random ?? Math.random;
  const jittered = Math.floor(interval * (0.5 + random() / 2));
  const latest = input.notAfter.getTime() - RESERVE_INTERVALS * interval - input.now.getTime();
  return Math.min(jittered, Math.max(latest, Math.floor(policy.backoff / 2)));
}
