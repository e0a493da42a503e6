/**
 * The one contract every journal adapter must pass (src/journal/types.ts). Run it with
 * `describeJournal(name, makeHarness)`; the harness builds journals on one shared backend, on the
 * test's clock, with a history bound of HISTORY_BOUND.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type ErrorCode, isCertrotorError } from "../../src/errors.js";
import { fencedJournal, type Journal, type RotationRecord } from "../../src/journal/types.js";
import type { LockManager } from "../../src/locks/types.js";

export const HISTORY_BOUND = 5;

export interface JournalHarness {
  /** A journal on the shared backend reading `now` for its defaults; call twice for two "processes". */
  open(now: () => Date): Journal;
  /** The lock manager whose leases fence this journal's writes (same backend), on the real clock. */
  locks: LockManager;
  cleanup(): Promise<void>;
}

const T0 = Date.parse("2025-03-14T12:00:00.000Z");
const iso = (offsetMs: number): string => new Date(T0 + offsetMs).toISOString();

function aRecord(fields: Partial<RotationRecord> = {}): RotationRecord {
  return {
    rotationId: `rot-${randomUUID()}`,
    credentialId: `cred-${randomUUID()}`,
    trigger: "schedule",
    startedAt: iso(0),
    updatedAt: iso(0),
    step: "plan",
    stepStartedAt: iso(0),
    status: "running",
    attempts: 1,
    oldFingerprint: "a".repeat(64),
    ...fields,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, fragment?: RegExp): Promise<string> {
  let message = "";
  await assert.rejects(promise, (error) => {
    assert.ok(isCertrotorError(error, code), `expected ${code}, got ${String(error)}`);
    if (fragment) assert.match(error.message, fragment);
    message = error.message;
    return true;
  });
  return message;
}

export function describeJournal(name: string, make: () => Promise<JournalHarness>): void {
  describe(`journal contract: ${name}`, () => {
    let h: JournalHarness;
    let clock = T0;
    let journal: Journal;
    before(async () => {
      h = await make();
      journal = h.open(() => new Date(clock));
    });
    after(async () => {
      await journal.close();
      await h.cleanup();
    });

    it("returns a begun record as written, and null for an unknown rotation", async () => {
      const record = aRecord({ trigger: "on-demand", attempts: 0 });
      await journal.begin(record);
      assert.deepEqual(await journal.get(record.rotationId), record);
      assert.equal(await journal.get("rot-unknown"), null);
      assert.equal(await journal.latest("cred-unknown"), null);
    });

    it("merges a patch, stamps updatedAt with now and restarts stepStartedAt only when the step changes", async () => {
      const record = aRecord();
      await journal.begin(record);
      clock = T0 + 60_000;
      const moved = await journal.update(record.rotationId, { step: "generate", attempts: 2 });
      assert.equal(moved.step, "generate");
      assert.equal(moved.attempts, 2);
      assert.equal(moved.updatedAt, iso(60_000));
      assert.equal(moved.stepStartedAt, iso(60_000));
      clock = T0 + 120_000;
      const same = await journal.update(record.rotationId, { step: "generate", hint: "retrying" });
      assert.equal(same.stepStartedAt, iso(60_000), "same step: stepStartedAt kept");
      assert.equal(same.updatedAt, iso(120_000));
      assert.deepEqual(await journal.get(record.rotationId), same);
    });

    it("removes a field patched to undefined, e.g. an error cleared by a successful retry", async () => {
      const record = aRecord({ errorCode: "BANK_UNAVAILABLE", errorMessage: "bank answered 503" });
      await journal.begin(record);
      const cleared = await journal.update(record.rotationId, {
        errorCode: undefined,
        errorMessage: undefined,
      });
      assert.equal("errorCode" in cleared, false);
      assert.equal("errorMessage" in (await journal.get(record.rotationId))!, false);
    });

    it("refuses to update an unknown rotation (NOT_FOUND) or move a rotation to another credential", async () => {
      await rejectsWith(journal.update("rot-missing", { step: "issue" }), "NOT_FOUND", /rot-missing/);
      const record = aRecord();
      await journal.begin(record);
      await rejectsWith(journal.update(record.rotationId, { credentialId: "someone-else" }), "INTERNAL");
      await rejectsWith(journal.update(record.rotationId, { step: "nonsense" as "plan" }), "INTERNAL");
    });

    it("treats a repeated begin as a no-op and a begin of the same id for another credential as a bug", async () => {
      const record = aRecord();
      await journal.begin(record);
      const updated = await journal.update(record.rotationId, { step: "stage" });
      await journal.begin(record);
      assert.deepEqual(await journal.get(record.rotationId), updated);
      assert.equal((await journal.history(record.credentialId)).length, 1);
      await rejectsWith(journal.begin({ ...record, credentialId: "other" }), "INTERNAL");
    });

    it("lists a credential's history newest first, bounded by limit, without other credentials", async () => {
      const credentialId = `cred-${randomUUID()}`;
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const record = aRecord({ credentialId, startedAt: iso(i * 1000), status: "succeeded" });
        ids.push(record.rotationId);
        await journal.begin(record);
      }
      await journal.begin(aRecord());
      const history = await journal.history(credentialId);
      assert.deepEqual(
        history.map((r) => r.rotationId),
        [...ids].reverse(),
      );
      assert.deepEqual(
        (await journal.history(credentialId, 2)).map((r) => r.rotationId),
        [ids[3], ids[2]],
      );
      assert.equal((await journal.latest(credentialId))?.rotationId, ids[3]);
    });

    it(`keeps at most ${HISTORY_BOUND} rotations per credential, never dropping a running one`, async () => {
      const credentialId = `cred-${randomUUID()}`;
      const oldRunning = aRecord({ credentialId, startedAt: iso(0) });
      await journal.begin(oldRunning);
      for (let i = 1; i <= HISTORY_BOUND + 3; i++) {
        await journal.begin(aRecord({ credentialId, startedAt: iso(i * 1000), status: "succeeded" }));
      }
      const history = await journal.history(credentialId, 100);
      assert.ok(history.length <= HISTORY_BOUND + 1, `${history.length} records kept`);
      assert.ok(
        history.some((r) => r.rotationId === oldRunning.rotationId),
        "the running one survives",
      );
      assert.equal(history[0]!.startedAt, iso((HISTORY_BOUND + 3) * 1000));
    });

    it("lists running and retire-due rotations as active, oldest first, and retire-due ones by due time", async () => {
      const running = aRecord({ startedAt: iso(-3000) });
      const retiring = aRecord({ startedAt: iso(-2000) });
      const later = aRecord({ startedAt: iso(-1000) });
      const finished = aRecord({ startedAt: iso(-4000) });
      for (const r of [running, retiring, later, finished]) await journal.begin(r);
      await journal.update(finished.rotationId, { status: "succeeded", step: "done", finishedAt: iso(0) });
      await journal.update(retiring.rotationId, {
        status: "retire-due",
        step: "retire",
        retireDueAt: iso(5000),
      });
      await journal.update(later.rotationId, {
        status: "retire-due",
        step: "retire",
        retireDueAt: iso(4000),
      });
      const active = (await journal.active()).map((r) => r.rotationId);
      const mine = [running, retiring, later].map((r) => r.rotationId);
      assert.deepEqual(
        active.filter((id) => mine.includes(id)),
        mine,
      );
      assert.ok(!active.includes(finished.rotationId));
      const dueIds = async (at: number): Promise<string[]> =>
        (await journal.retireDue(new Date(T0 + at)))
          .map((r) => r.rotationId)
          .filter((id) => mine.includes(id));
      assert.deepEqual(await dueIds(3999), []);
      assert.deepEqual(await dueIds(4000), [later.rotationId]);
      assert.deepEqual(await dueIds(9000), [later.rotationId, retiring.rotationId]);
      await journal.update(later.rotationId, { status: "succeeded", step: "done" });
      assert.deepEqual(await dueIds(9000), [retiring.rotationId]);
      assert.ok(!(await journal.active()).some((r) => r.rotationId === later.rotationId));
    });

    it("keeps an audit trail per credential, newest first, bounded by limit", async () => {
      const credentialId = `cred-${randomUUID()}`;
      const actions = ["issued", "staged", "bound", "verified", "promoted"] as const;
      for (const [i, action] of actions.entries()) {
        await journal.audit({
          at: iso(i),
          credentialId,
          rotationId: "rot-1",
          action,
          actor: "inline",
          details: { slot: i, ok: true },
        });
      }
      await journal.audit({ at: iso(9), credentialId: "another", action: "failed", actor: "operator" });
      const trail = await journal.auditTrail(credentialId);
      assert.deepEqual(
        trail.map((e) => e.action),
        [...actions].reverse(),
      );
      assert.deepEqual(trail[0], {
        at: iso(4),
        credentialId,
        rotationId: "rot-1",
        action: "promoted",
        actor: "inline",
        details: { slot: 4, ok: true },
      });
      assert.equal((await journal.auditTrail(credentialId, 2)).length, 2);
    });

    it("keeps concurrent updates of different fields from two journal instances", async () => {
      const record = aRecord();
      await journal.begin(record);
      const second = h.open(() => new Date(clock));
      await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => journal.update(record.rotationId, { hint: `hint-${i}` })),
        ...Array.from({ length: 10 }, (_, i) => second.update(record.rotationId, { errorCode: `CODE_${i}` })),
      ]);
      const final = (await journal.get(record.rotationId))!;
      assert.match(final.hint ?? "", /^hint-\d$/);
      assert.match(final.errorCode ?? "", /^CODE_\d$/);
      await second.close();
    });

    it("refuses secret-looking values with INTERNAL, names the field, and writes nothing", async () => {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      const der = privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
      const record = aRecord({ errorMessage: `failed with ${pem}` });
      const message = await rejectsWith(journal.begin(record), "INTERNAL", /"errorMessage".*PEM private key/);
      assert.ok(!message.includes(pem.split("\n")[1]!), "the key is not echoed");
      assert.equal(await journal.get(record.rotationId), null);

      const clean = aRecord();
      await journal.begin(clean);
      await rejectsWith(journal.update(clean.rotationId, { hint: der }), "INTERNAL", /"hint".*base64/);
      assert.deepEqual(await journal.get(clean.rotationId), clean);

      const event = {
        at: iso(0),
        credentialId: clean.credentialId,
        action: "failed",
        actor: "inline",
      } as const;
      await rejectsWith(journal.audit({ ...event, details: { blob: der } }), "INTERNAL", /"details\.blob"/);
      assert.deepEqual(await journal.auditTrail(clean.credentialId), []);
    });

    it("appends an audit event of a rotation once per action and fingerprint; events without a rotation always", async () => {
      const credentialId = `cred-${randomUUID()}`;
      const event = (action: "issued" | "bound", fingerprint: string) => ({
        at: iso(0),
        credentialId,
        rotationId: "rot-idem",
        action,
        actor: "inline" as const,
        details: { fingerprint },
      });
      assert.equal(await journal.audit(event("issued", "f1")), true);
      assert.equal(await journal.audit(event("issued", "f1")), false, "the same issue, redone, adds nothing");
      assert.equal(await journal.audit(event("issued", "f2")), true, "another certificate is another event");
      assert.equal(await journal.audit(event("bound", "f1")), true);
      const loose = { at: iso(1), credentialId, action: "failed", actor: "operator" } as const;
      assert.equal(await journal.audit(loose), true);
      assert.equal(await journal.audit(loose), true);
      assert.deepEqual(
        (await journal.auditTrail(credentialId)).map((e) => `${e.action}:${e.details?.fingerprint ?? "-"}`),
        ["failed:-", "failed:-", "bound:f1", "issued:f2", "issued:f1"],
      );
    });

    it("never changes a finished record (RECORD_FINISHED)", async () => {
      const record = aRecord();
      await journal.begin(record);
      await journal.update(record.rotationId, { status: "succeeded", step: "done", finishedAt: iso(5) });
      const finished = await journal.get(record.rotationId);
      await rejectsWith(journal.update(record.rotationId, { status: "failed" }), "RECORD_FINISHED");
      assert.deepEqual(await journal.get(record.rotationId), finished);
    });

    it("refuses a fenced write once its lease is lost or superseded (LOCK_LOST), atomically, writing nothing", async () => {
      const record = aRecord();
      const key = `rotation:${record.credentialId}`;
      const first = await h.locks.acquire(key, { ttlMs: 60_000, owner: "first" });
      const fenced = fencedJournal(journal, first);
      await fenced.begin(record);
      await fenced.update(record.rotationId, { step: "issue" });
      const issued = {
        at: iso(1),
        credentialId: record.credentialId,
        rotationId: record.rotationId,
        action: "issued" as const,
        actor: "schedule" as const,
        details: { fingerprint: "f1" },
      };
      assert.equal(await fenced.audit(issued), true);

      await first.release(); // as if it expired: the lock is free
      await rejectsWith(fenced.update(record.rotationId, { step: "stage" }), "LOCK_LOST");
      const second = await h.locks.acquire(key, { ttlMs: 60_000, owner: "second" });
      await rejectsWith(fenced.update(record.rotationId, { step: "stage" }), "LOCK_LOST");
      await rejectsWith(fenced.audit({ ...issued, details: { fingerprint: "f2" } }), "LOCK_LOST");
      await rejectsWith(fenced.begin(aRecord({ credentialId: record.credentialId })), "LOCK_LOST");
      const unchanged = await journal.get(record.rotationId);
      assert.equal(unchanged?.step, "issue", "the stale holder's update was not written");
      assert.deepEqual(
        (await journal.auditTrail(record.credentialId)).map((e) => e.details?.fingerprint),
        ["f1"],
      );

      const current = fencedJournal(journal, second);
      assert.equal((await current.update(record.rotationId, { step: "stage" })).step, "stage");
      await second.release();
    });

    it("tells a stale holder LOCK_LOST, not RECORD_FINISHED or 'already recorded', once its successor finished the rotation", async () => {
      const record = aRecord();
      const key = `rotation:${record.credentialId}`;
      const first = await h.locks.acquire(key, { ttlMs: 60_000, owner: "first" });
      const stale = fencedJournal(journal, first);
      await stale.begin(record);
      const issued = {
        at: iso(1),
        credentialId: record.credentialId,
        rotationId: record.rotationId,
        action: "issued" as const,
        actor: "schedule" as const,
        details: { fingerprint: "f1" },
      };
      assert.equal(await stale.audit(issued), true);
      await first.release(); // it stalled past its lease; another process took over and finished
      const second = await h.locks.acquire(key, { ttlMs: 60_000, owner: "second" });
      const current = fencedJournal(journal, second);
      await current.update(record.rotationId, { status: "succeeded", step: "done", finishedAt: iso(5) });
      const finished = await journal.get(record.rotationId);

      await rejectsWith(stale.update(record.rotationId, { status: "failed" }), "LOCK_LOST");
      await rejectsWith(stale.audit(issued), "LOCK_LOST");
      // the lease's holder, and an unfenced writer, still learn that the record is finished
      await rejectsWith(current.update(record.rotationId, { status: "failed" }), "RECORD_FINISHED");
      await rejectsWith(journal.update(record.rotationId, { status: "failed" }), "RECORD_FINISHED");
      assert.equal(await current.audit(issued), false);
      assert.deepEqual(await journal.get(record.rotationId), finished);
      assert.equal((await journal.auditTrail(record.credentialId)).length, 1);
      await second.release();
    });
  });
}
