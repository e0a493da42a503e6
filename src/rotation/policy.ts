/**
 * When to rotate a credential's certificate: an ordered chain of small pure checks, as cert-manager's
 * renewal policy chain. Each check returns `{ reason, message }` or null; the first non-null one decides.
 * The reason constants are stable: they double as metric labels and alert keys.
 *
 * Times (all derived from the injected `now`, never the wall clock):
 * - base      = min(notAfter − renewBefore, notBefore + renewAtFraction · lifetime); a renewBefore not
 *               shorter than the lifetime is ignored (flag "renew-before-ignored")
 * - lastSafe  = notAfter − (retry budget + gracePeriod): the latest start that still leaves room for every
 *               retry (backoff.ts) and for consumers to reload the new cert before the old one expires
 * - renewAt   = base + jitter, where jitter ∈ [0, policy.jitter) is a hash of (credentialId, notAfter), so
 *               every scan agrees; never past max(base, lastSafe) (flag "jitter-clamped" when cut)
 * - startAt   = for scheduled rotations with a window: the first window minute at or after
 *               max(renewAt, now); if none comes before lastSafe the window is ignored (flag
 *               "window-ignored"): a window is a preference, never a reason to let a cert expire.
 *               Otherwise max(renewAt, now); now when forced or expired.
 */
import { createHash } from "node:crypto";
import type { RenewalPolicyConfig } from "../config/schema.js";
import { formatDuration } from "../config/duration.js";
import { retryBudgetMs } from "./backoff.js";
import { inWindow, nextWindowOpening, type RotationWindow, validateCron } from "./window.js";

const RENEWAL_REASONS = [
  "Expired",
  "Forced",
  "NotDue",
  "NoWindowBeforeExpiry",
  "WindowClosed",
  "RenewBefore",
  "LifetimeFraction",
] as const;
export type RenewalReason = (typeof RENEWAL_REASONS)[number];

/** ok: not yet; due: due but waiting for the window; due-now: start now; expired: already expired, start now. */
export type RenewalStatus = "ok" | "due" | "due-now" | "expired";

const RENEWAL_FLAGS = [
  "expired",
  "forced",
  "window-ignored",
  "jitter-clamped",
  "renew-before-ignored",
] as const;
export type RenewalFlag = (typeof RENEWAL_FLAGS)[number];

export interface RenewalInput {
  credentialId: string;
  notBefore: Date;
  notAfter: Date;
  policy: RenewalPolicyConfig;
  now: Date;
  /** On-demand rotation: skips every check except the expiry fact. */
  force?: boolean;
  /** A scheduler-started rotation: only these honour the window. Pass true for the scheduler's view in `status`. */
  scheduled?: boolean;
}

export interface RenewalDecision {
  status: RenewalStatus;
  reason: RenewalReason;
  message: string;
  /** Planned renewal time, jitter included. */
  renewAt: Date;
  /** When a rotation may start: renewAt (or now, if later) moved into the window when one applies. */
  startAt: Date;
  flags: RenewalFlag[];
}

export interface Verdict {
  reason: RenewalReason;
  message: string;
}

/** The times a decision is made from; computed once, read by every check. */
export interface RenewalPlan {
  basis: "RenewBefore" | "LifetimeFraction";
  /** renewBefore is not shorter than the lifetime, so the fraction decides alone. */
  renewBeforeIgnored: boolean;
  baseAt: Date;
  renewAt: Date;
  lastSafeStart: Date;
  jitterClamped: boolean;
  /** The window that applies to this decision (scheduled and configured), if any. */
  window?: RotationWindow;
  /** First window minute at or after max(renewAt, now), null when none before lastSafeStart. */
  opening: Date | null;
}

export type RenewalCheck = (input: RenewalInput, plan: RenewalPlan) => Verdict | null;

const at = (date: Date): string => date.toISOString();
const ms = (date: Date): number => date.getTime();

/** Deterministic offset in [0, jitterMs) for this cert: the same (credentialId, notAfter) always gets the same. */
export function jitterOffsetMs(credentialId: string, notAfter: Date, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  const digest = createHash("sha256").update(`${credentialId}\n${notAfter.toISOString()}`).digest();
  const unit = digest.readUIntBE(0, 6) / 2 ** 48;
  return Math.floor(unit * jitterMs);
}

/** The latest start that still fits every retry and the grace period before notAfter. */
export function lastSafeStart(notAfter: Date, policy: RenewalPolicyConfig): Date {
  return new Date(ms(notAfter) - retryBudgetMs(policy) - policy.gracePeriod);
}

function planRenewal(input: RenewalInput): RenewalPlan {
  const { notBefore, notAfter, policy } = input;
  const lifetime = Math.max(0, ms(notAfter) - ms(notBefore));
  const fractionAt = ms(notBefore) + Math.floor(policy.renewAtFraction * lifetime);
  // A renewBefore as long as the lifetime would make every new cert due at once: a rotation loop.
  // Like cert-manager, fall back to the fraction then (flag "renew-before-ignored").
  const beforeUsable = policy.renewBefore !== undefined && policy.renewBefore < lifetime;
  const beforeAt = beforeUsable ? ms(notAfter) - policy.renewBefore! : Number.POSITIVE_INFINITY;
  const basis = beforeAt < fractionAt ? "RenewBefore" : "LifetimeFraction";
  const baseAt = Math.min(beforeAt, fractionAt);
  const safe = lastSafeStart(notAfter, policy);
  const cap = Math.max(baseAt, ms(safe));
  const jittered = baseAt + jitterOffsetMs(input.credentialId, notAfter, policy.jitter);
  const renewAt = new Date(Math.min(jittered, cap));
  const window = input.scheduled && policy.window ? policy.window : undefined;
  const earliest = new Date(Math.max(ms(renewAt), ms(input.now)));
  if (window) validateCron(window.cron, "renewal.window.cron", window.timezone);
  return {
    basis,
    renewBeforeIgnored: policy.renewBefore !== undefined && !beforeUsable,
    baseAt: new Date(baseAt),
    renewAt,
    lastSafeStart: safe,
    jitterClamped: jittered > cap,
    window,
    opening: window ? nextWindowOpening(window, earliest, safe) : earliest,
  };
}

const describeWindow = (window: RotationWindow): string => `"${window.cron}" (${window.timezone})`;

// ---------------------------------------------------------------- the checks, in order

const checkExpired: RenewalCheck = (input) =>
  ms(input.now) < ms(input.notAfter)
    ? null
    : {
        reason: "Expired",
        message: `certificate expired ${formatDuration(ms(input.now) - ms(input.notAfter))} ago (notAfter ${at(input.notAfter)}); rotate now`,
      };

const checkForced: RenewalCheck = (input, plan) =>
  input.force
    ? { reason: "Forced", message: `rotation forced on demand (policy would renew at ${at(plan.renewAt)})` }
    : null;

const checkNotDue: RenewalCheck = (input, plan) =>
  ms(input.now) >= ms(plan.renewAt)
    ? null
    : {
        reason: "NotDue",
        message: `renewal planned at ${at(plan.renewAt)} (${basisText(input, plan)}), in ${formatDuration(ms(plan.renewAt) - ms(input.now))}`,
      };

const checkNoWindowBeforeExpiry: RenewalCheck = (_input, plan) =>
  plan.window && plan.opening === null
    ? {
        reason: "NoWindowBeforeExpiry",
        message: `renewal due since ${at(plan.renewAt)} and window ${describeWindow(plan.window)} has no opening before ${at(plan.lastSafeStart)}; rotating outside the window`,
      }
    : null;

const checkWindowClosed: RenewalCheck = (input, plan) =>
  plan.window && plan.opening && ms(plan.opening) > ms(input.now)
    ? {
        reason: "WindowClosed",
        message: `renewal due since ${at(plan.renewAt)}; waiting for window ${describeWindow(plan.window)} to open at ${at(plan.opening)}`,
      }
    : null;

/** Terminal: reached only when renewAt has passed and nothing holds the rotation back. */
const checkRenewalDue: RenewalCheck = (input, plan) => ({
  reason: plan.basis,
  message: `renewal due since ${at(plan.renewAt)} (${basisText(input, plan)}); certificate expires ${at(input.notAfter)}`,
});

function basisText(input: RenewalInput, plan: RenewalPlan): string {
  return plan.basis === "RenewBefore"
    ? `renewBefore ${formatDuration(input.policy.renewBefore ?? 0)} before notAfter ${at(input.notAfter)}`
    : `${Math.round(input.policy.renewAtFraction * 1000) / 10}% of the lifetime, notAfter ${at(input.notAfter)}`;
}

const RENEWAL_CHAIN: readonly RenewalCheck[] = [
  checkExpired,
  checkForced,
  checkNotDue,
  checkNoWindowBeforeExpiry,
  checkWindowClosed,
  checkRenewalDue,
];

const STATUS_OF: Record<RenewalReason, RenewalStatus> = {
  Expired: "expired",
  Forced: "due-now",
  NotDue: "ok",
  NoWindowBeforeExpiry: "due-now",
  WindowClosed: "due",
  RenewBefore: "due-now",
  LifetimeFraction: "due-now",
};

function startAtFor(input: RenewalInput, plan: RenewalPlan, reason: RenewalReason): Date {
  if (reason === "Expired" || reason === "Forced") return input.now;
  const earliest = new Date(Math.max(ms(plan.renewAt), ms(input.now)));
  return plan.opening ?? earliest;
}

function flagsFor(input: RenewalInput, plan: RenewalPlan, reason: RenewalReason): RenewalFlag[] {
  const flags: RenewalFlag[] = [];
  if (reason === "Expired") flags.push("expired");
  if (input.force) flags.push("forced");
  const windowMissed =
    reason === "Expired"
      ? plan.window !== undefined && !inWindow(plan.window, input.now)
      : plan.opening === null;
  if (plan.window && reason !== "Forced" && windowMissed) flags.push("window-ignored");
  if (plan.jitterClamped) flags.push("jitter-clamped");
  if (plan.renewBeforeIgnored) flags.push("renew-before-ignored");
  return flags;
}

/** Runs the chain: the first check that speaks decides. */
export function decideRenewal(input: RenewalInput): RenewalDecision {
  const plan = planRenewal(input);
  let verdict: Verdict | null = null;
  for (const check of RENEWAL_CHAIN) {
    verdict = check(input, plan);
    if (verdict) break;
  }
  // checkRenewalDue never returns null, so the chain always ends with a verdict.
  const { reason, message } = verdict!;
  return {
    status: STATUS_OF[reason],
    reason,
    message,
    renewAt: plan.renewAt,
    startAt: startAtFor(input, plan, reason),
    flags: flagsFor(input, plan, reason),
  };
}
