import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type RenewalPolicyConfig, renewalSchema } from "../../src/config/schema.js";
import { isCertrotorError } from "../../src/errors.js";
import {
  decideRenewal,
  jitterOffsetMs,
  lastSafeStart,
  type RenewalInput,
} from "../../src/rotation/policy.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = new Date("2025-01-06T12:00:00Z");
const days = (n: number, from = T0): Date => new Date(from.getTime() + n * DAY);

function policy(fields: Record<string, unknown> = {}): RenewalPolicyConfig {
  return renewalSchema.parse({ jitter: 0, ...fields });
}

function decide(
  overrides: Partial<RenewalInput> & { policy: RenewalPolicyConfig },
): ReturnType<typeof decideRenewal> {
  return decideRenewal({ credentialId: "acme", notBefore: T0, notAfter: days(90), now: T0, ...overrides });
}

describe("renewal policy: when to renew", () => {
  const cases: {
    name: string;
    policy: RenewalPolicyConfig;
    lifetimeDays: number;
    renewDay: number;
    reason: string;
  }[] = [
    {
      name: "the lifetime fraction (2/3 by default) decides when no renewBefore is set",
      policy: policy(),
      lifetimeDays: 90,
      renewDay: 60,
      reason: "LifetimeFraction",
    },
    {
      name: "the fraction wins when it comes before renewBefore",
      policy: policy({ renewBefore: "20d" }),
      lifetimeDays: 90,
      renewDay: 60,
      reason: "LifetimeFraction",
    },
    {
      name: "renewBefore wins when it comes before the fraction",
      policy: policy({ renewBefore: "45d" }),
      lifetimeDays: 90,
      renewDay: 45,
      reason: "RenewBefore",
    },
    {
      name: "a custom fraction is honoured against a long renewBefore",
      policy: policy({ renewAtFraction: 0.5, renewBefore: "200d" }),
      lifetimeDays: 365,
      renewDay: 165,
      reason: "RenewBefore",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const notAfter = days(c.lifetimeDays);
      const before = decide({ policy: c.policy, notAfter, now: new Date(days(c.renewDay).getTime() - 1) });
      assert.equal(before.status, "ok");
      assert.equal(before.reason, "NotDue");
      assert.deepEqual(before.renewAt, days(c.renewDay));
      const at = decide({ policy: c.policy, notAfter, now: days(c.renewDay) });
      assert.equal(at.status, "due-now");
      assert.equal(at.reason, c.reason);
      assert.deepEqual(at.startAt, days(c.renewDay));
      assert.deepEqual(at.flags, []);
    });
  }

  it("falls back to the fraction, flagged, when renewBefore is not shorter than the lifetime", () => {
    // otherwise every 7-day cert would be due the moment it is issued: a rotation loop
    const decision = decide({ policy: policy({ renewBefore: "30d" }), notAfter: days(7), now: days(1) });
    assert.equal(decision.status, "ok");
    assert.deepEqual(decision.renewAt, new Date(T0.getTime() + Math.floor((7 * DAY * 2) / 3)));
    assert.deepEqual(decision.flags, ["renew-before-ignored"]);
  });

  it("says in the message when and why, without any secret", () => {
    const decision = decide({ policy: policy({ renewBefore: "45d" }), now: days(1) });
    assert.match(
      decision.message,
      /renewal planned at 2025-02-20T12:00:00\.000Z \(renewBefore 45d before notAfter/,
    );
  });
});

describe("renewal policy: jitter", () => {
  it("adds a deterministic offset below the configured jitter, the same on every scan", () => {
    const p = policy({ jitter: "6h" });
    for (let i = 0; i < 200; i++) {
      const notAfter = new Date(days(90).getTime() + i * 1000);
      const a = decide({ credentialId: `cred-${i}`, policy: p, notAfter, now: days(1) });
      const b = decide({ credentialId: `cred-${i}`, policy: p, notAfter, now: days(2) });
      assert.deepEqual(a.renewAt, b.renewAt, "two scans agree");
      const base = T0.getTime() + (2 / 3) * (notAfter.getTime() - T0.getTime());
      const offset = a.renewAt.getTime() - Math.floor(base);
      assert.ok(offset >= 0 && offset < 6 * HOUR, `offset ${offset} within [0, 6h)`);
    }
  });

  it("changes when the cert changes, so a renewed cert does not inherit its predecessor's slot", () => {
    assert.notEqual(jitterOffsetMs("acme", days(90), DAY), jitterOffsetMs("acme", days(91), DAY));
    assert.notEqual(jitterOffsetMs("acme", days(90), DAY), jitterOffsetMs("beta", days(90), DAY));
  });

  it("spreads a fleet of 1,000 certs issued within minutes of each other over distinct minutes", () => {
    const perMinute = (p: RenewalPolicyConfig): Map<number, number> => {
      const buckets = new Map<number, number>();
      for (let i = 0; i < 1000; i++) {
        const notBefore = new Date(T0.getTime() + i * 1000); // one batch run, one cert per second
        const notAfter = new Date(notBefore.getTime() + 90 * DAY);
        const { renewAt } = decide({ credentialId: `cred-${i}`, notBefore, notAfter, policy: p });
        const minute = Math.floor(renewAt.getTime() / MINUTE);
        buckets.set(minute, (buckets.get(minute) ?? 0) + 1);
      }
      return buckets;
    };
    const unjittered = perMinute(policy({ jitter: 0 }));
    assert.ok(unjittered.size <= 18, `without jitter the batch renews within ${unjittered.size} minutes`);
    // A week of jitter is ~10,000 minutes: a uniform hash leaves ~950 of 1,000 certs alone in their minute.
    const spread = perMinute(policy({ jitter: "7d" }));
    assert.ok(spread.size >= 900, `${spread.size} distinct minutes`);
    assert.ok(Math.max(...spread.values()) <= 3, "no minute carries more than 3 renewals");
  });

  it("never pushes renewAt past the point where the retry budget and grace period still fit", () => {
    // base = notAfter − 5h; the reserve is 4h grace + 7.5 min of retries, so at most ~52 min of jitter fit
    const p = policy({ renewBefore: "5h", renewAtFraction: 0.999, jitter: "30d" });
    const notAfter = days(90);
    const decision = decide({ policy: p, notAfter });
    assert.ok(decision.renewAt.getTime() <= lastSafeStart(notAfter, p).getTime());
    assert.deepEqual(decision.renewAt, lastSafeStart(notAfter, p));
    assert.deepEqual(decision.flags, ["jitter-clamped"]);
  });
});

describe("renewal policy: rotation window", () => {
  // Weekdays 09:00–16:59 in São Paulo (UTC−3, no DST since 2019).
  const window = { cron: "* 9-16 * * 1-5", timezone: "America/Sao_Paulo" };
  const friday18 = new Date("2025-03-14T21:00:00Z"); // Friday 18:00 local
  const monday09 = new Date("2025-03-17T12:00:00Z"); // Monday 09:00 local
  const notBefore = new Date(friday18.getTime() - 60 * DAY);
  const notAfter = new Date(friday18.getTime() + 30 * DAY); // due (2/3 of 90 days) exactly on Friday 18:00

  it("makes a scheduled rotation due on Friday 18:00 wait until Monday 09:00 local time", () => {
    const decision = decide({
      policy: policy({ window }),
      notBefore,
      notAfter,
      now: friday18,
      scheduled: true,
    });
    assert.equal(decision.status, "due");
    assert.equal(decision.reason, "WindowClosed");
    assert.deepEqual(decision.startAt, monday09);
    assert.deepEqual(decision.renewAt, friday18);
    assert.deepEqual(decision.flags, []);
  });

  it("starts at once when the window is open", () => {
    const decision = decide({
      policy: policy({ window }),
      notBefore,
      notAfter,
      now: monday09,
      scheduled: true,
    });
    assert.equal(decision.status, "due-now");
    assert.equal(decision.reason, "LifetimeFraction");
    assert.deepEqual(decision.startAt, monday09);
  });

  it("plans a not-yet-due rotation at the first window minute after renewAt", () => {
    const now = new Date(friday18.getTime() - DAY);
    const decision = decide({ policy: policy({ window }), notBefore, notAfter, now, scheduled: true });
    assert.equal(decision.status, "ok");
    assert.deepEqual(decision.startAt, monday09);
  });

  it("ignores the window for rotations that were not scheduled", () => {
    const decision = decide({ policy: policy({ window }), notBefore, notAfter, now: friday18 });
    assert.equal(decision.status, "due-now");
    assert.deepEqual(decision.startAt, friday18);
  });

  it("rotates now, flagged, when no window opening comes before the cert would expire", () => {
    const expiresSunday = new Date("2025-03-16T12:00:00Z");
    const saturday = new Date("2025-03-15T15:00:00Z"); // due since Saturday 12:00Z
    const decision = decide({
      policy: policy({ window }),
      notBefore: new Date(expiresSunday.getTime() - 3 * DAY),
      notAfter: expiresSunday,
      now: saturday,
      scheduled: true,
    });
    assert.equal(decision.status, "due-now");
    assert.equal(decision.reason, "NoWindowBeforeExpiry");
    assert.deepEqual(decision.startAt, saturday);
    assert.deepEqual(decision.flags, ["window-ignored"]);
  });

  it("treats an opening that leaves less than the grace period and retries before expiry as none", () => {
    // Monday 09:00 local is 3h before expiry, inside the 4h grace period: waiting would be too late.
    const decision = decide({
      policy: policy({ window }),
      notBefore: new Date(monday09.getTime() - 10 * DAY),
      notAfter: new Date(monday09.getTime() + 3 * HOUR),
      now: friday18,
      scheduled: true,
    });
    assert.equal(decision.reason, "NoWindowBeforeExpiry");
    assert.deepEqual(decision.startAt, friday18);
  });

  it("starts at once, unflagged, inside the window even when past the last safe start", () => {
    const decision = decide({
      policy: policy({ window }),
      notBefore: new Date(monday09.getTime() - 10 * DAY),
      notAfter: new Date(monday09.getTime() + HOUR),
      now: monday09,
      scheduled: true,
    });
    assert.equal(decision.status, "due-now");
    assert.equal(decision.reason, "LifetimeFraction");
    assert.deepEqual(decision.startAt, monday09);
    assert.deepEqual(decision.flags, []);
  });

  it("refuses a bad window pattern with BAD_CRON naming the config path", () => {
    const bad = policy({ window: { cron: "* 25 * * *", timezone: "UTC" } });
    assert.throws(
      () => decide({ policy: bad, scheduled: true }),
      (error) => isCertrotorError(error, "BAD_CRON") && error.message.startsWith("renewal.window.cron: "),
    );
  });
});

describe("renewal policy: expired and forced", () => {
  it("marks a cert already expired as expired, due now, whatever the window says", () => {
    const window = { cron: "* 9-16 * * 1-5", timezone: "America/Sao_Paulo" };
    const now = new Date("2025-03-15T15:00:00Z"); // Saturday
    const notAfter = new Date(now.getTime() - 2 * HOUR);
    const decision = decide({ policy: policy({ window }), notAfter, now, scheduled: true });
    assert.equal(decision.status, "expired");
    assert.equal(decision.reason, "Expired");
    assert.deepEqual(decision.startAt, now);
    assert.deepEqual(decision.flags, ["expired", "window-ignored"]);
    assert.match(decision.message, /expired 2h ago/);
  });

  it("rotates on demand at once when forced, even long before renewal is due", () => {
    const decision = decide({
      policy: policy({ window: { cron: "0 3 1 1 *", timezone: "UTC" } }),
      now: days(1),
      force: true,
      scheduled: true,
    });
    assert.equal(decision.status, "due-now");
    assert.equal(decision.reason, "Forced");
    assert.deepEqual(decision.startAt, days(1));
    assert.deepEqual(decision.flags, ["forced"]);
  });
});
