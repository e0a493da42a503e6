/**
 * Access-token cache for callers that make repeated protected calls (seed 000/001: reuse the token and
 * renew it shortly before it expires). One in-flight fetch per key: concurrent callers share its promise,
 * and a failed fetch is not cached. Tokens live in memory only.
 *
 * Key tokens by credential AND certificate (e.g. `${clientId}:${fingerprint}`): a token is bound to the
 * certificate that obtained it (RFC 8705), so after a rotation the new cert must get its own token.
 */
import type { TokenResult } from "./types.js";

export interface TokenCacheOptions {
  /** Renew this long before expiry (default 60 s; capped at half the token's lifetime). */
  skewMs?: number;
  /** Clock (ms since epoch); injectable for tests. */
  now?: () => number;
}

interface Entry {
  token: TokenResult;
  /** Reuse until this instant (ms). */
  renewAt: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<TokenResult>>();
  private readonly skewMs: number;
  private readonly now: () => number;

  constructor(options: TokenCacheOptions = {}) {
    this.skewMs = options.skewMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** A cached token still fresh for `key`, else the result of one shared `fetch`. */
  get(key: string, fetch: () => Promise<TokenResult>): Promise<TokenResult> {
    const entry = this.entries.get(key);
    if (entry && this.now() < entry.renewAt) return Promise.resolve(entry.token);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const started = this.now();
    const promise = fetch().then(
      (token) => {
        const lifetimeMs = token.expiresIn * 1000;
        const renewAt = started + lifetimeMs - Math.min(this.skewMs, lifetimeMs / 2);
        this.entries.set(key, { token, renewAt });
        this.inFlight.delete(key);
        return token;
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Forgets the token for `key` (e.g. after the bank refused it). */
  invalidate(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
