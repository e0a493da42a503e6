/**
 * The one contract every lock adapter must pass (src/locks/types.ts). Run it with
 * `describeLockManager(name, makeHarness)`; the harness knows how to make a lease run out on its backend
 * (Redis expires the key itself; the file adapter reads an injected clock), so no test sleeps.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type ErrorCode, isCertrotorError } from "../../src/errors.js";
import type { AcquireOptions, Lease, LockManager } from "../../src/locks/types.js";
import { acquireWithin } from "../../src/locks/wait.js";

/** `manager`, announcing each refused acquire: the holder lets go once the waiter has been refused. */
function announcingRefusals(manager: LockManager, onLocked: () => void): LockManager {
  return {
    async acquire(key: string, options: AcquireOptions) {
      try {
        return await manager.acquire(key, options);
      } catch (error) {
        if (isCertrotorError(error, "LOCKED")) onLocked();
        throw error;
      }
    },
    close: () => manager.close(),
  };
}

export interface LockHarness {
  manager: LockManager;
  /** Another manager over the same storage: what a second worker process would see. */
  other: LockManager;
  /** A ttl for leases the test will expire with `expire` (short for Redis, anything for a fake clock). */
  shortTtlMs: number;
  /** Returns once `lease` has run out on the backend. */
  expire(lease: Lease): Promise<void>;
  cleanup(): Promise<void>;
}

const LONG = 60_000;

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, fragment?: RegExp): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(isCertrotorError(error, code), `expected ${code}, got ${String(error)}`);
    if (fragment) assert.match(error.message, fragment);
    return true;
  });
}

export function describeLockManager(name: string, make: () => Promise<LockHarness>): void {
  describe(`lock manager contract: ${name}`, () => {
    let h: LockHarness;
    const key = (): string => `rotation:${randomUUID()}`;
    before(async () => {
      h = await make();
    });
    after(async () => {
      await h.manager.close();
      await h.other.close();
      await h.cleanup();
    });

    it("hands out a lease with owner, a positive token and an expiry ttl from now", async () => {
      const before = Date.now();
      const lease = await h.manager.acquire(key(), { ttlMs: LONG, owner: "worker-a" });
      assert.equal(lease.owner, "worker-a");
      assert.ok(Number.isInteger(lease.token) && lease.token > 0);
      assert.ok(lease.expiresAt.getTime() >= before + LONG - 1000);
      await lease.check();
      await lease.release();
    });

    it("refuses a second acquire of a held key at once with LOCKED naming the holder", async () => {
      const k = key();
      const lease = await h.manager.acquire(k, { ttlMs: LONG, owner: "worker-a" });
      await rejectsWith(
        h.other.acquire(k, { ttlMs: LONG, owner: "worker-b" }),
        "LOCKED",
        /held by "worker-a"/,
      );
      await rejectsWith(h.manager.acquire(k, { ttlMs: LONG, owner: "worker-a" }), "LOCKED");
      await lease.check();
      await lease.release();
    });

    it("keeps different keys independent", async () => {
      const a = await h.manager.acquire(key(), { ttlMs: LONG, owner: "worker-a" });
      const b = await h.other.acquire(key(), { ttlMs: LONG, owner: "worker-b" });
      await a.check();
      await b.check();
      await Promise.all([a.release(), b.release()]);
    });

    it("frees the key on release, and the next holder gets a higher token", async () => {
      const k = key();
      const first = await h.manager.acquire(k, { ttlMs: LONG, owner: "worker-a" });
      await first.release();
      await rejectsWith(first.check(), "LOCK_LOST");
      const second = await h.other.acquire(k, { ttlMs: LONG, owner: "worker-b" });
      assert.ok(second.token > first.token);
      await first.release(); // a second release of a freed lease changes nothing
      await second.check();
      await second.release();
    });

    it("issues strictly increasing tokens over many acquisitions of one key", async () => {
      const k = key();
      let last = 0;
      for (let i = 0; i < 20; i++) {
        const lease = await (i % 2 ? h.other : h.manager).acquire(k, { ttlMs: LONG, owner: `w${i}` });
        assert.ok(lease.token > last, `token ${lease.token} > ${last}`);
        last = lease.token;
        await lease.release();
      }
    });

    it("renews a lease it still holds, moving expiresAt forward", async () => {
      const lease = await h.manager.acquire(key(), { ttlMs: LONG, owner: "worker-a" });
      const before = lease.expiresAt.getTime();
      await lease.renew(10 * LONG);
      assert.ok(lease.expiresAt.getTime() > before);
      await lease.check();
      await lease.release();
    });

    it("lets another owner take an expired lock with a higher token; the first gets LOCK_LOST", async () => {
      const k = key();
      const first = await h.manager.acquire(k, { ttlMs: h.shortTtlMs, owner: "worker-a" });
      await h.expire(first);
      const second = await h.other.acquire(k, { ttlMs: LONG, owner: "worker-b" });
      assert.ok(second.token > first.token, "fencing token increased");
      await rejectsWith(first.check(), "LOCK_LOST", /no longer held by "worker-a"/);
      await rejectsWith(first.renew(), "LOCK_LOST");
      await second.check();
      await second.release();
    });

    it("does not free the successor's lock when a stale holder releases", async () => {
      const k = key();
      const stale = await h.manager.acquire(k, { ttlMs: h.shortTtlMs, owner: "worker-a" });
      await h.expire(stale);
      const successor = await h.other.acquire(k, { ttlMs: LONG, owner: "worker-b" });
      await stale.release();
      await successor.check();
      await rejectsWith(
        h.manager.acquire(k, { ttlMs: LONG, owner: "worker-c" }),
        "LOCKED",
        /held by "worker-b"/,
      );
      await successor.release();
    });

    it("reports an expired lease that nobody took as lost, and lets its owner acquire again", async () => {
      const k = key();
      const lease = await h.manager.acquire(k, { ttlMs: h.shortTtlMs, owner: "worker-a" });
      await h.expire(lease);
      await rejectsWith(lease.check(), "LOCK_LOST");
      const again = await h.manager.acquire(k, { ttlMs: LONG, owner: "worker-a" });
      assert.ok(again.token > lease.token);
      await again.release();
    });

    it("acquireWithin waits for a holder that lets go in time, and takes the lock then", async () => {
      const k = key();
      const lease = await h.manager.acquire(k, { ttlMs: LONG, owner: "worker-a" });
      let refusals = 0;
      const waiting = acquireWithin(
        announcingRefusals(h.other, () => {
          refusals += 1;
          if (refusals === 2) void lease.release();
        }),
        k,
        { ttlMs: LONG, owner: "operator" },
        30_000,
      );
      const taken = await waiting;
      assert.equal(taken.owner, "operator");
      assert.ok(taken.token > lease.token);
      assert.ok(refusals >= 2, "it was refused first, then waited");
      await taken.release();
    });

    it("acquireWithin reports LOCKED naming the holder when the lock stays held past the wait", async () => {
      const k = key();
      const lease = await h.manager.acquire(k, { ttlMs: LONG, owner: "worker-a" });
      await rejectsWith(
        acquireWithin(h.other, k, { ttlMs: LONG, owner: "operator" }, 150),
        "LOCKED",
        /held by "worker-a"/,
      );
      await lease.check();
      await lease.release();
    });
  });
}
