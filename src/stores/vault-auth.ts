/**
 * The Vault token a connection presents: the configured token as is, or an AppRole login whose token is
 * renewed (`auth/token/renew-self`) at 2/3 of its TTL and replaced by a fresh login when renewal fails, the
 * token is not renewable, or Vault stops accepting it. Tokens and secret ids never reach logs or errors.
 */
import type { VaultStoreConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";

type AuthConfig = VaultStoreConfig["auth"];

/** One Vault call with an explicit token (undefined = none), retried but never re-authenticated. */
export type AuthSend = (
  method: "POST",
  path: string,
  body: object,
  token: string | undefined,
) => Promise<Record<string, unknown> | undefined>;

export interface VaultAuthDeps {
  label: string;
  log: (line: object) => void;
  send: AuthSend;
}

/** Renew (or log in again) once this share of the token's TTL has passed. */
export const RENEW_FRACTION = 2 / 3;
const LOGIN_RETRY_MS = 1_000;

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

function leaseOf(
  body: Record<string, unknown> | undefined,
): { token: string; lease: number; renewable: boolean } | undefined {
  const auth = body?.auth as
    | { client_token?: unknown; lease_duration?: unknown; renewable?: unknown }
    | undefined;
  if (!auth || typeof auth.client_token !== "string" || typeof auth.lease_duration !== "number")
    return undefined;
  return { token: auth.client_token, lease: auth.lease_duration, renewable: auth.renewable === true };
}

function reason(error: unknown): string {
  return error instanceof CertrotorError
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : "unknown";
}

export class VaultAuth {
  private live: LiveToken | undefined;
  private loggingIn: Promise<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly config: AuthConfig,
    private readonly deps: VaultAuthDeps,
  ) {}

  /** The token to present now, logging in first when there is none (or it is about to expire). */
  async token(): Promise<string> {
    if (this.config.method === "token") return this.config.token;
    const live = this.live;
    if (live && (live.expiresAtMs === 0 || Date.now() < live.expiresAtMs - margin(live))) return live.token;
    return this.login();
  }

  /**
   * A request presenting `used` was refused with these messages. True when the caller should retry:
   * Vault called an AppRole token invalid (expired or revoked) and a fresh login succeeded (or already
   * replaced it).
   */
  async onForbidden(errors: readonly string[], used: string | undefined): Promise<boolean> {
    if (this.config.method !== "approle" || !used || !errors.includes("invalid token")) return false;
    if (this.live && this.live.token !== used) return true;
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
    return "the Vault policy of this token does not grant the capability on this path (see the README's Vault policy)";
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private login(): Promise<string> {
    this.loggingIn ??= this.doLogin().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async doLogin(): Promise<string> {
    if (this.config.method !== "approle") throw new Error("login without AppRole config");
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
      if (error instanceof CertrotorError) throw error;
      const status = (error as { status?: number }).status ?? 0;
      const messages = (error as { errors?: readonly string[] }).errors ?? [];
      throw new CertrotorError(
        "ACCESS_DENIED",
        `${this.deps.label}: AppRole login at ${path} was refused (${status}): ${messages.join("; ") || "no reason given"}`,
        {
          hint: "check the AppRole role_id/secret_id and the auth mount",
          details: { status, path },
        },
      );
    }
    const lease = leaseOf(body);
    if (!lease) {
      throw new CertrotorError(
        "ACCESS_DENIED",
        `${this.deps.label}: AppRole login at ${path} answered without auth.client_token`,
      );
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
    } catch (error) {
      this.deps.log({
        msg: "vault approle login failed; retrying",
        store: this.deps.label,
        reason: reason(error),
      });
      this.schedule(LOGIN_RETRY_MS, false);
    }
  }

  /** True when Vault extended the token (and the next renewal is scheduled). */
  private async renew(live: LiveToken): Promise<boolean> {
    try {
      const lease = leaseOf(await this.deps.send("POST", "auth/token/renew-self", {}, live.token));
      if (!lease || lease.lease <= 0) throw new Error("renew-self answered without a lease");
      live.expiresAtMs = Date.now() + lease.lease * 1000;
      live.leaseMs = lease.lease * 1000;
      this.deps.log({ msg: "vault token renewed", store: this.deps.label, ttlSeconds: lease.lease });
      this.schedule(lease.lease * 1000 * RENEW_FRACTION, lease.renewable);
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
