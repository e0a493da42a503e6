/**
 * The Vault token a connection presents: the configured token as is, or an AppRole login whose token is
 * renewed (`auth/token/renew-self`) at 2/3 of its TTL and replaced by a fresh login when renewal fails, the
 * token is not renewable, or Vault stops accepting it. Failed logins back off (vault-login.ts). On close, a
 * token obtained by login is revoked (`auth/token/revoke-self`); a configured token is left alone. Tokens and
 * secret ids never reach logs or errors.
 */
import type { VaultStoreConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import {
  DEFAULT_LOGIN_BACKOFF,
  type LoginBackoff,
  LoginFailures,
  leaseOf,
  loginRefused,
} from "./vault-login.js";

export type { LoginBackoff } from "./vault-login.js";

type AuthConfig = VaultStoreConfig["auth"];

/**
 * One Vault call with an explicit token (undefined = none), retried but never re-authenticated; `once` makes
 * a single attempt (a probe, a revocation on close).
 */
export type AuthSend = (
  method: "POST",
  path: string,
  body: object,
  token: string | undefined,
  once?: boolean,
) => Promise<Record<string, unknown> | undefined>;

export interface VaultAuthDeps {
  label: string;
  log: (line: object) => void;
  send: AuthSend;
  backoff?: LoginBackoff;
}

/** Renew (or log in again) once this share of the token's TTL has passed. */
export const RENEW_FRACTION = 2 / 3;

interface LiveToken {
  token: string;
  /** 0 = no expiry. */
  expiresAtMs: number;
  /** The last lease granted, for the safety margin before expiry. */
  leaseMs: number;
}

/** A token counts as expired this long before Vault's deadline (a tenth of its lease, at most 1 s). */
function margin(live: LiveToken): number {
  return Math.min(1_000, live.leaseMs / 10);
}

function reason(error: unknown): string {
  return error instanceof CertrotorError
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : "unknown";
}

/** The HTTP status a failed send carried (VaultStatusError or an ACCESS_DENIED CertrotorError), if any. */
function statusOf(error: unknown): number | undefined {
  const direct = (error as { status?: unknown } | null)?.status;
  if (typeof direct === "number") return direct;
  const detail = error instanceof CertrotorError ? error.details.status : undefined;
  return typeof detail === "number" ? detail : undefined;
}

export class VaultAuth {
  private live: LiveToken | undefined;
  private loggingIn: Promise<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly failures: LoginFailures;

  constructor(
    private readonly config: AuthConfig,
    private readonly deps: VaultAuthDeps,
  ) {
    this.failures = new LoginFailures(deps.backoff ?? DEFAULT_LOGIN_BACKOFF);
  }

  /** The token to present now, logging in first when there is none (or it is about to expire). */
  async token(): Promise<string> {
    if (this.config.method === "token") return this.config.token;
    const live = this.live;
    if (live && (live.expiresAtMs === 0 || Date.now() < live.expiresAtMs - margin(live))) return live.token;
    return this.login();
  }

  /**
   * A request presenting `used` was refused with these 403 messages. True when the caller should retry with
   * a fresh AppRole token: Vault said `invalid token` (1.17 and later), or it said only `permission denied`
   * (what Vault before 1.17 answers for an invalid token, and every version for a policy denial) and the token
   * itself no longer renews (renew-self refused with 403).
   */
  async onForbidden(errors: readonly string[], used: string | undefined): Promise<boolean> {
    if (this.config.method !== "approle" || !used) return false;
    if (this.live && this.live.token !== used) return true;
    if (!errors.includes("invalid token") && (await this.stillValid(used))) return false;
    this.live = undefined;
    await this.login();
    return true;
  }

  /** What an operator should check after a 403. */
  denialHint(errors: readonly string[]): string {
    if (errors.includes("invalid token")) {
      return this.config.method === "token"
        ? "the configured Vault token is invalid, expired or revoked"
        : "the AppRole token was refused right after a fresh login; check the role's token settings";
    }
    return this.config.method === "token"
      ? "the Vault policy of this token does not grant the capability on this path (see docs/deploy/vault.md, the Vault policy), or the token is invalid or expired (Vault before 1.17 words both the same)"
      : "the Vault policy of this token does not grant the capability on this path (see docs/deploy/vault.md, the Vault policy)";
  }

  /** Stops renewing and revokes a token obtained by login; a configured token is never revoked. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const live = this.live;
    this.live = undefined;
    // A login still in flight revokes its own token when it lands (doLogin).
    if (this.config.method === "approle" && live) await this.revoke(live.token);
  }

  private async revoke(token: string): Promise<void> {
    try {
      await this.deps.send("POST", "auth/token/revoke-self", {}, token, true);
      this.deps.log({ msg: "vault approle token revoked", store: this.deps.label });
    } catch (error) {
      // Best effort: the token expires at its TTL anyway.
      this.deps.log({ msg: "vault token revocation failed", store: this.deps.label, reason: reason(error) });
    }
  }

  /** renew-self with `token`, once: anything but a 403 (renewed, "not renewable", Vault down) means the token is valid. */
  private async stillValid(token: string): Promise<boolean> {
    try {
      const lease = leaseOf(await this.deps.send("POST", "auth/token/renew-self", {}, token, true));
      if (lease && lease.lease > 0 && this.live?.token === token) this.extend(this.live, lease);
      return true;
    } catch (error) {
      return statusOf(error) !== 403;
    }
  }

  private login(): Promise<string> {
    this.loggingIn ??= this.doLogin().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async doLogin(): Promise<string> {
    if (this.config.method !== "approle") throw new Error("login without AppRole config");
    const blocked = this.failures.blocked();
    if (blocked) throw blocked;
    const path = `auth/${this.config.mount}/login`;
    let body: Record<string, unknown> | undefined;
    try {
      body = await this.deps.send(
        "POST",
        path,
        { role_id: this.config.roleId, secret_id: this.config.secretId },
        undefined,
      );
    } catch (error) {
      throw this.loginFailed(loginRefused(this.deps.label, path, error));
    }
    const lease = leaseOf(body);
    if (!lease) {
      throw this.loginFailed(
        new CertrotorError(
          "ACCESS_DENIED",
          `${this.deps.label}: AppRole login at ${path} answered without auth.client_token`,
        ),
      );
    }
    this.failures.succeeded();
    if (this.stopped) {
      // Closed while this login was in flight: the token is not kept, so it must not outlive us.
      await this.revoke(lease.token);
      throw new CertrotorError("INTERNAL", `${this.deps.label}: the Vault connection is closed`);
    }
    this.live = {
      token: lease.token,
      expiresAtMs: lease.lease > 0 ? Date.now() + lease.lease * 1000 : 0,
      leaseMs: lease.lease * 1000,
    };
    this.deps.log({
      msg: "vault approle login",
      store: this.deps.label,
      ttlSeconds: lease.lease,
      renewable: lease.renewable,
    });
    this.schedule(lease.lease * 1000 * RENEW_FRACTION, lease.renewable);
    return lease.token;
  }

  private loginFailed(error: CertrotorError): CertrotorError {
    const { nominalMs, delayMs, attempt } = this.failures.failed(error);
    this.deps.log({
      msg: "vault approle login failed",
      store: this.deps.label,
      attempt,
      backoffMs: nominalMs,
      retryInMs: delayMs,
      reason: reason(error),
    });
    return error;
  }

  private schedule(delayMs: number, renewable: boolean): void {
    clearTimeout(this.timer);
    if (this.stopped || delayMs <= 0) return;
    this.timer = setTimeout(() => void this.refresh(renewable), delayMs);
    this.timer.unref();
  }

  private async refresh(renewable: boolean): Promise<void> {
    const live = this.live;
    if (this.stopped || !live) return;
    if (renewable && (await this.renew(live))) return;
    try {
      await this.login();
    } catch {
      // Logged by loginFailed; the next attempt follows the login backoff.
      this.schedule(Math.max(1, this.failures.waitMs()), false);
    }
  }

  private extend(live: LiveToken, lease: { lease: number; renewable: boolean }): void {
    live.expiresAtMs = Date.now() + lease.lease * 1000;
    live.leaseMs = lease.lease * 1000;
    this.schedule(lease.lease * 1000 * RENEW_FRACTION, lease.renewable);
  }

  /** True when Vault extended the token (and the next renewal is scheduled). */
  private async renew(live: LiveToken): Promise<boolean> {
    try {
      const lease = leaseOf(await this.deps.send("POST", "auth/token/renew-self", {}, live.token));
      if (!lease || lease.lease <= 0) throw new Error("renew-self answered without a lease");
      this.extend(live, lease);
      this.deps.log({ msg: "vault token renewed", store: this.deps.label, ttlSeconds: lease.lease });
      return true;
    } catch (error) {
      this.deps.log({
        msg: "vault token renewal failed; logging in again",
        store: this.deps.label,
        reason: reason(error),
      });
      return false;
    }
  }
}
