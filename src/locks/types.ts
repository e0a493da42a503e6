/**
 * The per-credential lock port (invariant 5: one rotation per credential at a time, across every worker
 * process). A lock is a lease: it expires unless renewed, so a crashed holder cannot block a credential
 * for ever. Every successful acquisition of a key carries a fencing token that is strictly greater than
 * the token of any earlier acquisition of that key, so a holder that stalled past its lease can be told
 * apart from its successor (`check()` throws LOCK_LOST).
 *
 * Adapters: redis.ts (workers sharing one Redis), file.ts (`--inline` and `demo`, one host, no Redis).
 */

export interface AcquireOptions {
  /** Lease length; the lock frees itself this long after acquire/renew unless renewed. */
  ttlMs: number;
  /** Who holds it (e.g. "host:pid:worker"), shown to the loser in the LOCKED message. Not a secret. */
  owner: string;
}

export interface Lease {
  readonly key: string;
  readonly owner: string;
  /** Fencing token: strictly increasing per key across all acquisitions, never reused. */
  readonly token: number;
  /** When the lease runs out unless renewed (holder's clock; moved forward by renew). */
  readonly expiresAt: Date;
  /** Extends the lease by `ttlMs` (default: the acquire ttl) from now. LOCK_LOST when it is no longer ours. */
  renew(ttlMs?: number): Promise<void>;
  /** Frees the lock if it is still ours; a lost or already released lease is left alone (no error). */
  release(): Promise<void>;
  /** Throws LOCK_LOST unless the lock is still ours: not expired, not taken over, token not superseded. */
  check(): Promise<void>;
}

export interface LockManager {
  /** Takes the lock at once or throws LOCKED naming the holder; it never waits for a held lock. */
  acquire(key: string, opts: AcquireOptions): Promise<Lease>;
  /** Releases resources the manager owns (a borrowed Redis connection is left open). */
  close(): Promise<void>;
}
