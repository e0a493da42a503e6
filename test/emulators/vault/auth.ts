/**
 * Auth endpoints: `auth/token/lookup-self`, `renew-self`, `revoke-self` (api-docs/auth/token.mdx) and
 * `auth/approle/login` (api-docs/auth/approle.mdx, builtin/credential/approle/path_login.go) with Vault's user
 * lockout (Vault ≥ 1.13, website/content/partials/user-lockout.mdx: on by default, 5 failed logins lock the
 * role_id out for 15 minutes, the counter resets after 15 minutes without a failure or on a success).
 * Counters and events let tests wait for a renewal or a login instead of sleeping.
 */
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { type AuthBlock, LOCKED_OUT, type Reply, fail, noContent, ok } from "./envelope.js";
import type { Operation } from "./engine.js";
import { epochSeconds, nowNs, parseDurationSeconds, rfc3339Nano } from "./time.js";
import type { PathRule, TokenEntry, TokenStore } from "./tokens.js";

export interface AppRoleOptions {
  roleName: string;
  roleId: string;
  secretId: string;
  tokenTtlSeconds: number;
  policies?: string[];
  /** Extra rules for the issued tokens (in addition to the named policies). */
  paths?: PathRule[];
  /** Cap for renewals of the issued tokens (default 32 days). */
  tokenMaxTtlSeconds?: number;
}

export type AuthEvent = "login" | "renew" | "login-attempt";

/** The `user_lockout` settings of the AppRole mount (configuration/user-lockout.mdx). */
export interface LockoutOptions {
  /** Failed logins after which the role_id is locked out (default 5). */
  threshold?: number;
  /** How long a lockout lasts (default 900 s). */
  durationSeconds?: number;
  /** A failure count older than this starts again from zero (default 900 s). */
  counterResetSeconds?: number;
  /** `disable_lockout` (default false). */
  disabled?: boolean;
}

interface FailedLogins {
  count: number;
  lastFailureMs: number;
  lockedUntilMs: number;
}

export class AuthBackend {
  readonly events = new EventEmitter();
  /** `loginAttempts` counts every request to the login path; `lockedOut` the ones refused by the lockout. */
  readonly counters = {
    logins: 0,
    renewals: 0,
    failedLogins: 0,
    loginAttempts: 0,
    lockedOut: 0,
    revocations: 0,
  };
  private readonly roles = new Map<string, AppRoleOptions>();
  private readonly failures = new Map<string, FailedLogins>();
  private readonly lockout: Required<LockoutOptions>;

  constructor(
    private readonly tokens: TokenStore,
    lockout: LockoutOptions = {},
  ) {
    this.lockout = {
      threshold: lockout.threshold ?? 5,
      durationSeconds: lockout.durationSeconds ?? 900,
      counterResetSeconds: lockout.counterResetSeconds ?? 900,
      disabled: lockout.disabled ?? false,
    };
  }

  addAppRole(options: AppRoleOptions): void {
    this.roles.set(options.roleId, options);
  }

  /** Paths served without a token. */
  isUnauthenticated(path: string): boolean {
    return /^approle\/login$/.test(path);
  }

  /** Paths any valid token may call (Vault's `default` policy). */
  isSelfService(path: string): boolean {
    return path === "token/lookup-self" || path === "token/renew-self" || path === "token/revoke-self";
  }

  handle(
    path: string,
    operation: Operation,
    data: Record<string, unknown>,
    token: TokenEntry | undefined,
  ): Reply {
    if (path === "approle/login" && (operation === "create" || operation === "update"))
      return this.login(data);
    if (path === "token/lookup-self" && operation === "read" && token) return this.lookupSelf(token);
    if (path === "token/renew-self" && (operation === "create" || operation === "update") && token) {
      return this.renewSelf(token, data);
    }
    if (path === "token/revoke-self" && (operation === "create" || operation === "update") && token) {
      // token_store.go handleRevokeSelf: revokes the calling token (and its children), answers 204.
      this.tokens.revoke(token.id);
      this.counters.revocations++;
      return noContent();
    }
    return fail(405, "unsupported operation");
  }

  /** The lockout entry of a role_id, reset once its counter is older than lockout_counter_reset. */
  private failuresOf(roleId: string, now: number): FailedLogins | undefined {
    const entry = this.failures.get(roleId);
    if (!entry) return undefined;
    const reset = now - entry.lastFailureMs > this.lockout.counterResetSeconds * 1000;
    if (reset && entry.lockedUntilMs <= now) {
      this.failures.delete(roleId);
      return undefined;
    }
    return entry;
  }

  /** failedUserLoginProcess: one more invalid-credentials answer for this role_id. */
  private countFailure(roleId: string, now: number): void {
    this.counters.failedLogins++;
    if (this.lockout.disabled) return;
    const entry = this.failuresOf(roleId, now) ?? { count: 0, lastFailureMs: now, lockedUntilMs: 0 };
    entry.count++;
    entry.lastFailureMs = now;
    if (entry.count >= this.lockout.threshold)
      entry.lockedUntilMs = now + this.lockout.durationSeconds * 1000;
    this.failures.set(roleId, entry);
  }

  private login(data: Record<string, unknown>): Reply {
    this.counters.loginAttempts++;
    this.events.emit("login-attempt", {});
    // pathLoginUpdateAliasLookahead: the alias (the lockout key) is the role_id; none → "missing role_id".
    const roleId = typeof data.role_id === "string" ? data.role_id.trim() : "";
    if (roleId === "") return fail(400, "missing role_id");
    const now = Date.now();
    // request_handling.go handleLoginRequest: a locked-out user is refused before the backend runs, whatever
    // the secret_id, with a bare "permission denied" (403).
    if ((this.failuresOf(roleId, now)?.lockedUntilMs ?? 0) > now) {
      this.counters.lockedOut++;
      return fail(403, LOCKED_OUT);
    }
    const role = this.roles.get(roleId);
    if (!role) {
      this.countFailure(roleId, now);
      return fail(400, "invalid role or secret ID");
    }
    // path_login.go: with bind_secret_id (the default) an empty secret_id has its own 400, not counted as a
    // failed login (it is an ErrorResponse, not ErrInvalidCredentials).
    const secretId = typeof data.secret_id === "string" ? data.secret_id.trim() : "";
    if (secretId === "") return fail(400, "missing secret_id");
    if (secretId !== role.secretId) {
      this.countFailure(roleId, now);
      return fail(400, "invalid role or secret ID");
    }
    this.failures.delete(roleId);
    const entry = this.tokens.create(
      {
        policies: role.policies,
        paths: role.paths,
        ttlSeconds: role.tokenTtlSeconds,
        renewable: true,
        maxTtlSeconds: role.tokenMaxTtlSeconds,
      },
      { path: "auth/approle/login", displayName: "approle", meta: { role_name: role.roleName } },
    );
    this.counters.logins++;
    this.events.emit("login", { ttl: role.tokenTtlSeconds });
    return ok(null, { mountType: "approle", auth: authBlock(entry, role.tokenTtlSeconds) });
  }

  private lookupSelf(token: TokenEntry): Reply {
    const now = Date.now();
    const common = {
      accessor: token.accessor,
      creation_time: epochSeconds(token.issuedAtMs),
      creation_ttl: token.ttlSeconds,
      display_name: token.displayName,
      entity_id: "",
      expire_time: token.expiresAtMs === 0 ? null : rfc3339Nano(BigInt(token.expiresAtMs) * 1_000_000n),
      explicit_max_ttl: 0,
      id: token.id,
      meta: token.meta,
      num_uses: 0,
      orphan: token.orphan,
      path: token.path,
      policies: token.policies,
      ttl: token.expiresAtMs === 0 ? 0 : Math.max(0, Math.round((token.expiresAtMs - now) / 1000)),
      type: "service",
    };
    // A root token shows neither issue_time nor renewable (`vault token lookup` on a dev server).
    const data = token.isRoot
      ? common
      : {
          ...common,
          issue_time: rfc3339Nano(BigInt(token.issuedAtMs) * 1_000_000n),
          renewable: token.renewable,
        };
    return ok(data, { mountType: "token" });
  }

  private renewSelf(token: TokenEntry, data: Record<string, unknown>): Reply {
    const increment = data.increment === undefined ? undefined : parseDurationSeconds(data.increment);
    const result = this.tokens.renew(token, increment);
    if ("error" in result) return fail(400, result.error);
    this.counters.renewals++;
    this.events.emit("renew", { ttl: result.ttl, at: nowNs() });
    return ok(null, {
      mountType: "token",
      auth: authBlock(token, result.ttl),
      warnings: result.warning ? [result.warning] : undefined,
    });
  }
}

function authBlock(token: TokenEntry, leaseDuration: number): AuthBlock {
  return {
    client_token: token.id,
    accessor: token.accessor,
    policies: token.policies,
    token_policies: token.policies,
    metadata: token.meta,
    lease_duration: leaseDuration,
    renewable: token.renewable,
    entity_id: token.path === "auth/approle/login" ? entityId(token) : "",
    token_type: "service",
    orphan: token.orphan,
    mfa_requirement: null,
    num_uses: 0,
  };
}

const entities = new WeakMap<TokenEntry, string>();
/** AppRole logins create an identity entity; its id stays stable per token. */
function entityId(token: TokenEntry): string {
  let id = entities.get(token);
  if (!id) {
    id = randomUUID();
    entities.set(token, id);
  }
  return id;
}
