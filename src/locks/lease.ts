/**
 * The Lease object both lock adapters hand out: the adapter supplies the three storage operations, this
 * file supplies the bookkeeping (expiresAt, default ttl) and the one wording of LOCK_LOST.
 */
import { CertrotorError } from "../errors.js";
import type { Lease } from "./types.js";

/** What the storage says about a lease: still ours, gone (expired or taken over), or fenced off. */
export type LeaseState = "held" | "lost" | "superseded";

export interface LeaseBackend {
  /** Extends the lease to now + ttlMs if still ours; returns the state found. */
  renew(ttlMs: number): Promise<LeaseState>;
  /** Frees the lock if still ours. */
  release(): Promise<void>;
  check(): Promise<LeaseState>;
}

export interface LeaseFields {
  key: string;
  owner: string;
  token: number;
  ttlMs: number;
  now: () => number;
}

export function lockLost(key: string, owner: string, token: number, state: LeaseState): CertrotorError {
  const why = state === "superseded" ? "a newer fencing token was issued" : "it expired or was taken over";
  return new CertrotorError(
    "LOCK_LOST",
    `lock "${key}" is no longer held by "${owner}" (token ${token}): ${why}`,
    {
      details: { key, owner, token },
      hint: "renew the lease more often than its ttl, or raise the ttl",
    },
  );
}

export function lockedError(key: string, holder: string, expiresInMs: number | undefined): CertrotorError {
  const expiry =
    expiresInMs === undefined ? "" : ` (lease ends in ${Math.max(0, Math.ceil(expiresInMs / 1000))}s)`;
  return new CertrotorError("LOCKED", `lock "${key}" is held by "${holder}"${expiry}`, {
    details: { key, holder, ...(expiresInMs === undefined ? {} : { expiresInMs: Math.max(0, expiresInMs) }) },
  });
}

export function createLease(fields: LeaseFields, backend: LeaseBackend): Lease {
  let expiresAt = new Date(fields.now() + fields.ttlMs);
  const fail = (state: LeaseState): never => {
    throw lockLost(fields.key, fields.owner, fields.token, state);
  };
  return {
    key: fields.key,
    owner: fields.owner,
    token: fields.token,
    get expiresAt() {
      return expiresAt;
    },
    async renew(ttlMs = fields.ttlMs) {
      const startedAt = fields.now();
      const state = await backend.renew(ttlMs);
      if (state !== "held") fail(state);
      // measured from before the call: the storage's expiry can only be later than this
      expiresAt = new Date(startedAt + ttlMs);
    },
    release: () => backend.release(),
    async check() {
      const state = await backend.check();
      if (state !== "held") fail(state);
    },
  };
}
