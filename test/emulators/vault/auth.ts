/**
 * Auth endpoints: `auth/token/lookup-self`, `auth/token/renew-self` (api-docs/auth/token.mdx) and
 * `auth/approle/login` (api-docs/auth/approle.mdx, path_login.go). Counters and events let tests wait for
 * a renewal or a login instead of sleeping.
 */
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { type AuthBlock, type Reply, fail, ok } from "./envelope.js";
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

export type AuthEvent = "login" | "renew";

export class AuthBackend {
  readonly events = new EventEmitter();
  readonly counters = { logins: 0, renewals: 0, failedLogins: 0 };
  private readonly roles = new Map<string, AppRoleOptions>();

  constructor(private readonly tokens: TokenStore) {}

  addAppRole(options: AppRoleOptions): void {
    this.roles.set(options.roleId, options);
  }

  /** Paths served without a token. */
  isUnauthenticated(path: string): boolean {
    return /^approle\/login$/.test(path);
  }

  /** Paths any valid token may call (Vault's `default` policy). */
  isSelfService(path: string): boolean {
    return path === "token/lookup-self" || path === "token/renew-self";
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
    return fail(405, "unsupported operation");
  }

  private login(data: Record<string, unknown>): Reply {
    const roleId = typeof data.role_id === "string" ? data.role_id : "";
    if (roleId === "") return fail(400, "missing role_id");
    const role = this.roles.get(roleId);
    if (!role || data.secret_id !== role.secretId) {
      this.counters.failedLogins++;
      return fail(400, "invalid role or secret ID");
    }
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
