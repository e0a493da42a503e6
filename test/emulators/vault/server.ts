/**
 * A wire-level HashiCorp Vault emulator for tests, like `vault server -dev`: KV v2 at `secret/`, PKI at
 * `pki/` with its own root CA, token and AppRole auth, namespaces, `sys/health`, and fault injection.
 * Real clients (node-vault) cannot tell it from Vault for the calls certrotor makes.
 *
 *   const vault = await startVaultEmulator({ rootToken: "root" });
 *   const client = nodeVault({ endpoint: vault.url, token: vault.rootToken });
 *   ...
 *   await vault.stop();
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { KeyType } from "../../../src/config/schema.js";
import type { AppRoleOptions, LockoutOptions } from "./auth.js";
import type { Engine } from "./engine.js";
import { type FaultOptions, FaultInjector } from "./faults.js";
import { KvEngine } from "./kv.js";
import { addVersion, emptyMetadata } from "./kv-store.js";
import { KvV1Engine } from "./kv-v1.js";
import { PkiEngine } from "./pki.js";
import { VaultCore } from "./router.js";
import type { PathRule, TokenOptions } from "./tokens.js";
import { type Front, listen, requestHandler } from "./transport.js";

export type { AppRoleOptions, LockoutOptions } from "./auth.js";
export type { FaultOptions } from "./faults.js";
export type { Capability, PathRule, TokenOptions } from "./tokens.js";

export interface VaultEmulatorOptions {
  /** Accepted as a root token (default: a random `hvs.` token). */
  rootToken?: string;
  port?: number;
  host?: string;
  faults?: FaultOptions;
  /** Child namespaces to create at start (each gets KV v2 at `secret/`). */
  namespaces?: string[];
  /** Key type of the PKI root CA (default p256: fast to generate). */
  pkiKeyType?: KeyType;
  /** Serve HTTPS with a certificate for `localhost` and 127.0.0.1 issued by the PKI root CA (`pkiCaPem`). */
  tls?: boolean;
  /**
   * The Vault version emulated (default 1.17.6). It shows in sys/health and decides the 403 body of an invalid
   * token: one multierror string "permission denied" + "invalid token" since 1.17, bare "permission denied" before.
   */
  version?: string;
  /** AppRole user lockout (default Vault's: on, 5 failed logins, 15 minutes). */
  lockout?: LockoutOptions;
  /** Extra mounts of KV version 1 (`vault secrets enable -version=1 -path=kv1 kv`), e.g. ["kv1/"]. */
  kvVersion1Mounts?: string[];
}

export interface VaultEmulator {
  readonly url: string;
  readonly rootToken: string;
  /** One line per request, `METHOD /v1/path STATUS` (or `dropped`): never tokens, bodies or queries. */
  readonly logs: string[];
  /** The PKI root CA certificate, PEM. */
  readonly pkiCaPem: string;
  /** `request` (after each answer), `login`, `renew`, `login-attempt` (every AppRole login request). */
  readonly events: EventEmitter;
  readonly counters: {
    readonly requests: number;
    /** TCP connections accepted (keep-alive reuse keeps this below `requests`). */
    readonly connections: number;
    readonly logins: number;
    readonly failedLogins: number;
    /** Every request to the AppRole login path, refused ones included. */
    readonly loginAttempts: number;
    /** Logins refused because the role_id was locked out. */
    readonly lockedOut: number;
    /** Tokens revoked with `auth/token/revoke-self`. */
    readonly revocations: number;
    readonly renewals: number;
    readonly faultsFailed: number;
    readonly faultsDropped: number;
    readonly pkiSigned: number;
  };
  stop(): Promise<void>;
  setFaults(faults: FaultOptions): void;
  /** A token with a TTL on the real clock and the given policies/path rules; returns the token. */
  createToken(options?: TokenOptions): string;
  revokeToken(token: string): void;
  /** Revokes every token but the root token (what `vault token revoke` on each would do). */
  revokeAllTokens(): void;
  addPolicy(name: string, rules: PathRule[]): void;
  addAppRole(options: AppRoleOptions): void;
  addNamespace(path: string): void;
  /**
   * Writes each secret as a new version of `secret/<path>` (root namespace) straight into the emulator's
   * state: no request, nothing counted. For tests that need thousands of secrets in place quickly.
   */
  seedKv(secrets: Iterable<readonly [path: string, data: Record<string, unknown>]>): void;
  setSealed(sealed: boolean): void;
  setStandby(standby: boolean): void;
  /** Resolves once `counter` reaches `value` (e.g. the second renewal), checked after every request. */
  waitFor(
    counter: "renewals" | "logins" | "requests" | "loginAttempts" | "revocations",
    value: number,
  ): Promise<void>;
}

/** Live counters, read through getters so a test sees the current value. */
function countersOf(
  front: Front,
  core: VaultCore,
  faults: FaultInjector,
  pki: PkiEngine,
): VaultEmulator["counters"] {
  const { stats } = front;
  return {
    get requests() {
      return stats.requests;
    },
    get connections() {
      return stats.connections;
    },
    get logins() {
      return core.auth.counters.logins;
    },
    get failedLogins() {
      return core.auth.counters.failedLogins;
    },
    get loginAttempts() {
      return core.auth.counters.loginAttempts;
    },
    get lockedOut() {
      return core.auth.counters.lockedOut;
    },
    get revocations() {
      return core.auth.counters.revocations;
    },
    get renewals() {
      return core.auth.counters.renewals;
    },
    get faultsFailed() {
      return faults.counters.failed;
    },
    get faultsDropped() {
      return faults.counters.dropped;
    },
    get pkiSigned() {
      return pki.counters.signed;
    },
  };
}

export async function startVaultEmulator(options: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const rootToken = options.rootToken ?? `hvs.${randomBytes(18).toString("base64url")}`;
  const pki = await PkiEngine.create({ keyType: options.pkiKeyType });
  const kv = new KvEngine();
  const mounts = new Map<string, Engine>([
    ["secret/", kv],
    ["pki/", pki],
    ...(options.kvVersion1Mounts ?? []).map(
      (path) => [`${path.replace(/\/+$/, "")}/`, new KvV1Engine()] as [string, Engine],
    ),
  ]);
  const core = new VaultCore(rootToken, mounts, {
    ...(options.version ? { version: options.version } : {}),
    ...(options.lockout ? { lockout: options.lockout } : {}),
  });
  for (const ns of options.namespaces ?? []) core.addNamespace(ns);
  const faults = new FaultInjector(options.faults);
  const front: Front = {
    core,
    faults,
    logs: [],
    events: new EventEmitter(),
    stats: { requests: 0, connections: 0 },
  };
  core.auth.events.on("login", (e) => front.events.emit("login", e));
  core.auth.events.on("renew", (e) => front.events.emit("renew", e));
  core.auth.events.on("login-attempt", (e) => front.events.emit("login-attempt", e));
  const tls = options.tls ? await pki.serverCertificate("localhost", ["127.0.0.1"]) : undefined;
  const listener = await listen(
    { port: options.port, host: options.host, tls },
    requestHandler(front),
    front.stats,
  );
  const { logs, events } = front;

  const handle: VaultEmulator = {
    url: listener.url,
    rootToken,
    logs,
    pkiCaPem: pki.caPem,
    events,
    counters: countersOf(front, core, faults, pki),
    stop: () => listener.stop(),
    setFaults: (f) => faults.set(f),
    createToken: (opts = {}) =>
      core.tokens.create(opts, { path: "auth/token/create", displayName: "token" }).id,
    revokeToken: (token) => core.tokens.revoke(token),
    revokeAllTokens: () => core.tokens.revokeAll(),
    addPolicy: (name, rules) => core.tokens.addPolicy(name, rules),
    addAppRole: (opts) => core.auth.addAppRole(opts),
    addNamespace: (path) => core.addNamespace(path),
    seedKv(secrets) {
      for (const [path, data] of secrets) {
        const meta = kv.keys.get(path) ?? emptyMetadata();
        addVersion(meta, data, kv.config);
        kv.keys.set(path, meta);
      }
    },
    setSealed: (sealed) => {
      core.state.sealed = sealed;
    },
    setStandby: (standby) => {
      core.state.standby = standby;
    },
    waitFor(counter, value) {
      return new Promise((resolve) => {
        const check = () => {
          if (handle.counters[counter] < value) return;
          events.off("request", check);
          resolve();
        };
        events.on("request", check);
        check();
      });
    },
  };
  return handle;
}
