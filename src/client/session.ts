/**
 * createBankSession: what a Node consumer of the bank needs across rotations. It follows the credential
 * (watch.ts) and, for its current material, keeps an https.Agent presenting that certificate and a token
 * cache for seed 001's contract (client_credentials over mTLS, tokens bound to the certificate by
 * cnf.x5t#S256, RFC 8705), built on the worker's own token client (src/bank/token-client.ts).
 *
 * On a change it builds the new agent first, switches `agent` and `token()` to it, then retires the old
 * agent (idle sockets closed at once, busy ones after their exchange) and drops the tokens the old
 * certificate obtained: the bank would refuse them over the new certificate. Then it emits `rotated`.
 *
 * Nothing here logs, emits or puts in an error a key, secret or token: events carry fingerprints only.
 */
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import type { Agent } from "node:https";
import { type MtlsSession, mtlsSession, type TlsSettings, type TlsVersion } from "../bank/mtls.js";
import { TokenCache } from "../bank/token-cache.js";
import { createTokenClient, TOKEN_PATH, type TokenClient } from "../bank/token-client.js";
import type { BankCredentials } from "../bank/types.js";
import { CertrotorError, toCertrotorError } from "../errors.js";
import { keepAliveAgent, retireAgent } from "./agents.js";
import type { Versioned } from "./source.js";
import { type CredentialWatcher, type WatchOptions, watchCredential } from "./watch.js";

/** How the token request is put on the wire (default: seed 001's JSON body at its token-v2 path). */
export interface TokenOptions {
  /** Token endpoint path (default /public/gw_banking/v1/auth/token-v2). */
  path?: string;
  /** `json` (seed 001, default) or `form` (RFC 6749 § 4.4, with clientAuth basic or body). */
  encoding?: "json" | "form";
  clientAuth?: "basic" | "body";
  scope?: string;
  /** Renew a token this long before it expires (default 60 s, at most half its lifetime). */
  renewBeforeMs?: number;
}

export interface BankSessionExtras {
  /** The bank's base URL, e.g. https://api.bancodigital.com */
  bankUrl: string;
  /** PEM bundle the bank's server certificate must chain to (default Node's roots). */
  ca?: string;
  /** File holding that bundle, instead of `ca`. */
  caFile?: string;
  /** The bank's client_id (default: the stored material's clientId). */
  clientId?: string;
  /** The client_secret (default: the stored material's clientSecret). */
  clientSecret?: string;
  token?: TokenOptions;
  tls?: { minVersion?: TlsVersion; maxVersion?: TlsVersion };
  /** Timeout of one token request (default 10 s). */
  requestTimeoutMs?: number;
  /** Further attempts of a token request that failed with a retryable error (default 2). */
  retries?: number;
  /** Sockets per host of each agent (default Infinity, Node's). */
  maxSockets?: number;
  /** The old agent is destroyed once its exchanges finished, or after this at the latest (default 30 s). */
  drainTimeoutMs?: number;
}

export type BankSessionOptions = WatchOptions & BankSessionExtras;

export interface Rotated {
  oldFingerprint: string;
  newFingerprint: string;
  /** The store's version of the new material (or the files' content hash). */
  version: string;
}

interface SessionEvents {
  rotated: [Rotated];
  error: [CertrotorError];
}

/** Everything bound to one material: its TLS context, its agent and the tokens it obtained. */
interface Binding {
  current: Versioned;
  mtls: MtlsSession;
  agent: Agent;
  tokens: TokenCache;
  credentials: BankCredentials;
}

const DEFAULT_DRAIN_MS = 30_000;

/** One call's agent and token, from the same material. `token` is not enumerable: it is never logged by accident. */
export interface BankAuth {
  readonly agent: Agent;
  /** SHA-256 (hex) of the certificate `agent` presents. */
  readonly fingerprint: string;
  readonly token: string;
  /** `Bearer <token>`, for the Authorization header. */
  readonly authorization: string;
}

function authOf(agent: Agent, fingerprint: string, token: string): BankAuth {
  const auth = { agent, fingerprint };
  Object.defineProperty(auth, "token", { value: token, enumerable: false });
  Object.defineProperty(auth, "authorization", { value: `Bearer ${token}`, enumerable: false });
  return auth as BankAuth;
}

export class BankSession extends EventEmitter<SessionEvents> {
  private binding: Binding;
  private closed = false;
  /** Old agents still draining after a rotation. */
  private readonly retiring = new Set<Agent>();

  /** Use createBankSession. */
  constructor(
    private readonly watcher: CredentialWatcher,
    private readonly tokenClient: TokenClient,
    private readonly settings: { tls: TlsSettings; options: BankSessionOptions },
  ) {
    super();
    this.binding = this.bind(watcher.current());
    watcher.on("change", ({ current }) => this.switchTo(current));
    watcher.on("error", (error) => this.report(error));
  }

  /** The agent presenting the current certificate: read it for every request (it changes on rotation). */
  get agent(): Agent {
    return this.binding.agent;
  }

  /** SHA-256 (hex) of the certificate the agent presents now. */
  get fingerprint(): string {
    return this.binding.current.material.fingerprint;
  }

  /** The current certificate's fingerprint, notAfter and store version (no key, no secret). */
  describe(): { fingerprint: string; notAfter: string; version: string } {
    const { material, version } = this.binding.current;
    return { fingerprint: material.fingerprint, notAfter: material.notAfter, version };
  }

  /**
   * The agent and a token bound to its certificate, from the same material: use both for one call. Read
   * separately, a rotation between the two reads would pair the old agent with a new token (or the
   * reverse), which the bank refuses (cnf.x5t#S256 mismatch). Tokens are cached, renewed before expiry,
   * and asked one at a time; a token that arrives after a rotation switched the agent is not returned.
   */
  async auth(): Promise<BankAuth> {
    for (let attempt = 1; ; attempt++) {
      const binding = this.binding;
      const token = await binding.tokens.get("token", () =>
        this.tokenClient.requestToken(binding.mtls, binding.credentials),
      );
      if (binding === this.binding || attempt >= 3) {
        return authOf(binding.agent, binding.current.material.fingerprint, token.accessToken);
      }
    }
  }

  /** An access token bound to the current certificate (see auth() to pair it with its agent). */
  async token(): Promise<string> {
    return (await this.auth()).token;
  }

  /** Forgets the cached token (e.g. after the bank refused it with 401); the next token() asks anew. */
  invalidateToken(): void {
    this.binding.tokens.clear();
  }

  /** Asks the store now, outside the poll interval (e.g. after the bank refused the certificate). */
  check(): Promise<void> {
    return this.watcher.check();
  }

  /** Stops following and destroys every agent, old ones still draining included (their exchanges fail). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watcher.close();
    this.binding.tokens.clear();
    this.binding.agent.destroy();
    for (const agent of this.retiring) agent.destroy();
    this.retiring.clear();
  }

  private bind(current: Versioned): Binding {
    const { options, tls } = this.settings;
    const mtls = mtlsSession(current.material, tls, this.watcher.label);
    const clientId = options.clientId ?? current.material.clientId;
    const clientSecret = options.clientSecret ?? current.material.clientSecret;
    if (!clientId || !clientSecret) {
      throw new CertrotorError(
        "BAD_ARGUMENT",
        `certrotor/client: ${this.watcher.label} holds no ${clientId ? "clientSecret" : "clientId"}, and none was given`,
        { hint: "pass clientId and clientSecret to createBankSession, or store them with the material" },
      );
    }
    const agent = keepAliveAgent(mtls, options.maxSockets ?? Number.POSITIVE_INFINITY);
    return {
      current,
      // the token calls ride the consumer's agent: same certificate, and its kept-alive connections
      mtls: { ...mtls, agent },
      agent,
      tokens: new TokenCache(
        options.token?.renewBeforeMs !== undefined ? { skewMs: options.token.renewBeforeMs } : {},
      ),
      credentials: { clientId, clientSecret },
    };
  }

  private switchTo(current: Versioned): void {
    if (this.closed) return;
    let next: Binding;
    try {
      next = this.bind(current);
    } catch (error) {
      this.report(toCertrotorError(error));
      return;
    }
    const old = this.binding;
    this.binding = next;
    old.tokens.clear(); // bound to the old certificate (RFC 8705): the bank refuses them over the new one
    this.retiring.add(old.agent);
    void retireAgent(old.agent, this.settings.options.drainTimeoutMs ?? DEFAULT_DRAIN_MS).then(() =>
      this.retiring.delete(old.agent),
    );
    const oldFingerprint = old.current.material.fingerprint;
    const newFingerprint = current.material.fingerprint;
    if (oldFingerprint === newFingerprint) return; // e.g. only the client_secret changed
    this.settings.options.logger?.debug(
      { source: this.watcher.label, oldFingerprint, newFingerprint, version: current.version },
      "bank session switched to the new certificate",
    );
    this.emit("rotated", { oldFingerprint, newFingerprint, version: current.version });
  }

  private report(error: CertrotorError): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

function caOf(options: BankSessionExtras): string | undefined {
  if (options.ca !== undefined) return options.ca;
  if (options.caFile === undefined) return undefined;
  try {
    return readFileSync(options.caFile, "utf8");
  } catch (error) {
    throw new CertrotorError(
      "CONFIG_NOT_FOUND",
      `certrotor/client: caFile ${options.caFile} cannot be read`,
      {
        cause: error,
        details: { path: options.caFile },
      },
    );
  }
}

/** Starts following the credential and resolves once its current material is loaded into an agent. */
export async function createBankSession(options: BankSessionOptions): Promise<BankSession> {
  const tls: TlsSettings = {
    caPem: caOf(options),
    minVersion: options.tls?.minVersion ?? "TLSv1.2",
    maxVersion: options.tls?.maxVersion ?? "TLSv1.3",
  };
  const token = options.token ?? {};
  const path = token.path ?? (token.encoding === "form" ? "/oauth/token" : TOKEN_PATH);
  const logger = options.logger;
  const tokenClient = createTokenClient({
    baseUrl: options.bankUrl,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
    retry: { retries: options.retries ?? 2, baseDelayMs: 200, maxDelayMs: 2_000 },
    onRetry: (what, code, attempt, delayMs) =>
      logger?.warn({ call: what, code, attempt, delayMs }, "bank token call failed; retrying"),
    style:
      token.encoding === "form"
        ? {
            kind: "form",
            path,
            clientAuth: token.clientAuth ?? "basic",
            ...(token.scope !== undefined ? { scope: token.scope } : {}),
          }
        : { kind: "json", path },
  });
  const watcher = await watchCredential(options);
  try {
    return new BankSession(watcher, tokenClient, { tls, options });
  } catch (error) {
    await watcher.close();
    throw toCertrotorError(error);
  }
}
