/**
 * The token store and ACL: tokens with a TTL on the real clock, named policies of path rules, and the
 * capability check Vault's ACL makes (an exact path rule wins over globs; among globs the longest prefix
 * wins; `deny` removes everything). The `root` policy allows every path.
 */
import { randomBytes } from "node:crypto";
import { goDuration } from "./time.js";

export type Capability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo" | "deny";

/** A policy rule: `path` exact, or a prefix when it ends in `*` (as in Vault's HCL policies). */
export interface PathRule {
  path: string;
  capabilities: Capability[];
}

export interface TokenOptions {
  /** Policy names: `root`, or names given to addPolicy. `default` is always implied. */
  policies?: string[];
  /** 0 (default) = no expiry. */
  ttlSeconds?: number;
  renewable?: boolean;
  /** Rules carried by this token in addition to its named policies. */
  paths?: PathRule[];
  /** Renewals never extend the token past issue time + this (default 32 days, Vault's system max). */
  maxTtlSeconds?: number;
}

export interface TokenEntry {
  id: string;
  accessor: string;
  policies: string[];
  rules: PathRule[];
  ttlSeconds: number;
  renewable: boolean;
  maxTtlSeconds: number;
  issuedAtMs: number;
  /** 0 = never expires. */
  expiresAtMs: number;
  path: string;
  displayName: string;
  meta: Record<string, string> | null;
  orphan: boolean;
  isRoot: boolean;
}

const SYSTEM_MAX_TTL = 32 * 86_400;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomId(length: number): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => BASE62[b % 62]).join("");
}

function capabilitiesFor(rules: PathRule[], path: string): Set<Capability> {
  const exact = rules.filter((rule) => !rule.path.endsWith("*") && rule.path === path);
  let chosen = exact;
  if (chosen.length === 0) {
    const globs = rules.filter((rule) => rule.path.endsWith("*") && path.startsWith(rule.path.slice(0, -1)));
    const longest = Math.max(-1, ...globs.map((rule) => rule.path.length));
    chosen = globs.filter((rule) => rule.path.length === longest);
  }
  const caps = new Set(chosen.flatMap((rule) => rule.capabilities));
  return caps.has("deny") ? new Set() : caps;
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly policies = new Map<string, PathRule[]>();

  addPolicy(name: string, rules: PathRule[]): void {
    this.policies.set(name, rules);
  }

  createRoot(id: string): TokenEntry {
    return this.insert({
      id,
      accessor: randomId(24),
      policies: ["root"],
      rules: [],
      ttlSeconds: 0,
      renewable: false,
      maxTtlSeconds: 0,
      issuedAtMs: Date.now(),
      expiresAtMs: 0,
      path: "auth/token/root",
      displayName: "root",
      meta: null,
      orphan: true,
      isRoot: true,
    });
  }

  create(
    options: TokenOptions,
    origin: { path: string; displayName: string; meta?: Record<string, string> },
  ): TokenEntry {
    const now = Date.now();
    const ttl = options.ttlSeconds ?? 0;
    const named = options.policies ?? [];
    return this.insert({
      id: `hvs.${randomId(24)}`,
      accessor: randomId(24),
      policies: named.includes("root") ? ["root"] : ["default", ...named.filter((p) => p !== "default")],
      rules: options.paths ?? [],
      ttlSeconds: ttl,
      renewable: options.renewable ?? true,
      maxTtlSeconds: options.maxTtlSeconds ?? SYSTEM_MAX_TTL,
      issuedAtMs: now,
      expiresAtMs: ttl > 0 ? now + ttl * 1000 : 0,
      path: origin.path,
      displayName: origin.displayName,
      meta: origin.meta ?? null,
      orphan: origin.path !== "auth/token/create",
      isRoot: named.includes("root"),
    });
  }

  private insert(entry: TokenEntry): TokenEntry {
    this.tokens.set(entry.id, entry);
    return entry;
  }

  /** The live token, or undefined when unknown, revoked or expired (expired ones are dropped). */
  lookup(id: string | undefined): TokenEntry | undefined {
    if (!id) return undefined;
    const entry = this.tokens.get(id);
    if (!entry) return undefined;
    if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= Date.now()) {
      this.tokens.delete(id);
      return undefined;
    }
    return entry;
  }

  revoke(id: string): void {
    this.tokens.delete(id);
  }

  revokeAll(): void {
    for (const [id, entry] of this.tokens) if (!entry.isRoot) this.tokens.delete(id);
  }

  private rulesOf(entry: TokenEntry): PathRule[] {
    return [...entry.rules, ...entry.policies.flatMap((name) => this.policies.get(name) ?? [])];
  }

  allowed(entry: TokenEntry, fullPath: string, capability: Capability): boolean {
    if (entry.isRoot) return true;
    return capabilitiesFor(this.rulesOf(entry), fullPath).has(capability);
  }

  /**
   * vault/logical_system.go hasMountAccess: the token may do something on the mount path itself, or some rule
   * (exact or glob) under it grants a capability other than deny.
   */
  hasMountAccess(entry: TokenEntry, mountPath: string): boolean {
    if (entry.isRoot) return true;
    const rules = this.rulesOf(entry);
    if (capabilitiesFor(rules, mountPath).size > 0) return true;
    return rules.some((rule) => {
      const prefix = rule.path.endsWith("*") ? rule.path.slice(0, -1) : rule.path;
      return (
        prefix.startsWith(mountPath) && !rule.capabilities.includes("deny") && rule.capabilities.length > 0
      );
    });
  }

  /**
   * renew-self (vault/expiration.go RenewToken, sdk/framework/lease.go CalculateTTL): the error text Vault
   * gives, or the new TTL in seconds and a warning when the max TTL capped it. The warning prints both
   * durations with Go's %q of a time.Duration: `TTL of "1h0m0s" exceeded the effective max_ttl of "9m59s";
   * TTL value is capped accordingly`.
   */
  renew(
    entry: TokenEntry,
    incrementSeconds: number | undefined,
  ): { error: string } | { ttl: number; warning?: string } {
    if (entry.expiresAtMs === 0) return { error: "lease not found or lease is not renewable" };
    if (!entry.renewable) return { error: "lease is not renewable" };
    const now = Date.now();
    const wanted = incrementSeconds && incrementSeconds > 0 ? incrementSeconds : entry.ttlSeconds;
    const left = Math.floor((entry.issuedAtMs + entry.maxTtlSeconds * 1000 - now) / 1000);
    const ttl = Math.max(0, Math.min(wanted, left));
    entry.expiresAtMs = now + ttl * 1000;
    if (ttl < wanted) {
      return {
        ttl,
        warning: `TTL of "${goDuration(wanted)}" exceeded the effective max_ttl of "${goDuration(ttl)}"; TTL value is capped accordingly`,
      };
    }
    return { ttl };
  }
}
