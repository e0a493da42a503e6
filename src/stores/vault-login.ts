/**
 * The AppRole login call and its backoff. A failed login is not tried again at once: the next attempt waits
 * 1 s, then 2 s, 4 s, ... up to a bound (5 min by default), each delay jittered to 50–100 %; until then every
 * caller gets the last failure at once, without a request. Two reasons: a wrong secret_id is not fixed by
 * retrying, and Vault's user lockout (on by default since 1.13) locks the role_id out for 15 minutes after 5
 * failed logins, the right secret_id included, so hammering turns a short outage of the secret into a long
 * one. A success clears the backoff.
 */
import { CertrotorError } from "../errors.js";

export interface LoginBackoff {
  /** Delay after the first failure. */
  baseMs: number;
  /** Bound of the doubling delay. */
  maxMs: number;
}

export const DEFAULT_LOGIN_BACKOFF: LoginBackoff = { baseMs: 1_000, maxMs: 300_000 };

export interface LoginLease {
  token: string;
  /** Seconds; 0 = no expiry. */
  lease: number;
  renewable: boolean;
}

/** The token of an `auth` block (login or renew-self answer), or undefined when there is none. */
export function leaseOf(body: Record<string, unknown> | undefined): LoginLease | undefined {
  const auth = body?.auth as
    | { client_token?: unknown; lease_duration?: unknown; renewable?: unknown }
    | undefined;
  if (!auth || typeof auth.client_token !== "string" || typeof auth.lease_duration !== "number")
    return undefined;
  return { token: auth.client_token, lease: auth.lease_duration, renewable: auth.renewable === true };
}

/** What Vault's refusal of a login means, as the error certrotor reports. */
export function loginRefused(label: string, path: string, error: unknown): CertrotorError {
  if (error instanceof CertrotorError) {
    const status = (error.details as { status?: unknown } | undefined)?.status;
    if (error.code !== "ACCESS_DENIED" || status !== 403) return error;
    // request_handling.go handleLoginRequest: a locked-out role_id gets a bare 403 whatever its secret_id.
    return new CertrotorError(
      "ACCESS_DENIED",
      `${label}: AppRole login at ${path} was refused (403): permission denied`,
      {
        hint: "Vault locks an AppRole role_id out (user lockout, 15 minutes by default) after repeated failed logins: fix the secret_id, then wait for the lockout to end or have an operator clear it (sys/locked-users)",
        details: { status, path },
      },
    );
  }
  const status = (error as { status?: number }).status ?? 0;
  const messages = (error as { errors?: readonly string[] }).errors ?? [];
  return new CertrotorError(
    "ACCESS_DENIED",
    `${label}: AppRole login at ${path} was refused (${status}): ${messages.join("; ") || "no reason given"}`,
    { hint: "check the AppRole role_id/secret_id and the auth mount", details: { status, path } },
  );
}

/** Consecutive failed logins and when the next one may be tried. */
export class LoginFailures {
  private failures = 0;
  private last: CertrotorError | undefined;
  private nextAtMs = 0;

  constructor(
    private readonly backoff: LoginBackoff,
    private readonly random: () => number = Math.random,
  ) {}

  /** The error to throw instead of logging in now, or undefined when an attempt is due. */
  blocked(now = Date.now()): CertrotorError | undefined {
    if (!this.last || now >= this.nextAtMs) return undefined;
    const seconds = Math.ceil((this.nextAtMs - now) / 1000);
    return new CertrotorError(
      this.last.code,
      `${this.last.message} (${this.failures} failed login${this.failures > 1 ? "s" : ""} in a row; the next attempt is in ${seconds} s)`,
      {
        retryable: this.last.retryable,
        ...(this.last.hint ? { hint: this.last.hint } : {}),
        details: { ...this.last.details, failedLogins: this.failures },
      },
    );
  }

  /** Records a failure; returns the nominal (unjittered) delay and the one applied, in ms. */
  failed(error: CertrotorError, now = Date.now()): { nominalMs: number; delayMs: number; attempt: number } {
    this.failures++;
    this.last = error;
    const nominalMs = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (this.failures - 1));
    const delayMs = Math.round(nominalMs * (0.5 + this.random() / 2));
    this.nextAtMs = now + delayMs;
    return { nominalMs, delayMs, attempt: this.failures };
  }

  succeeded(): void {
    this.failures = 0;
    this.last = undefined;
    this.nextAtMs = 0;
  }

  /** Milliseconds until the next attempt may be made (0 when it may be made now). */
  waitMs(now = Date.now()): number {
    return Math.max(0, this.nextAtMs - now);
  }
}
