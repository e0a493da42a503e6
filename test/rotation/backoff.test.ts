import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryBudgetMs, retryDelay, retryInterval } from "../../src/rotation/backoff.js";

const MINUTE = 60_000;
const now = new Date("2025-03-14T12:00:00Z");
const far = new Date(now.getTime() + 30 * 86_400_000);
const policy = { attempts: 8, backoff: MINUTE, backoffMax: 20 * MINUTE };
const low = (): number => 0;
const high = (): number => 0.999_999;

describe("retry delay", () => {
  it("grows exponentially from the base backoff, with jitter in [interval/2, interval)", () => {
    const expected = [1, 2, 4, 8, 16].map((m) => m * MINUTE);
    for (const [i, interval] of expected.entries()) {
      const attempt = i + 1;
      assert.equal(retryDelay({ attempt, policy, notAfter: far, now, random: low }), interval / 2);
      const top = retryDelay({ attempt, policy, notAfter: far, now, random: high })!;
      assert.ok(top < interval && top >= interval - 1, `attempt ${attempt}: ${top} just under ${interval}`);
    }
  });

  it("caps the interval at backoffMax", () => {
    assert.equal(retryInterval(6, policy), 20 * MINUTE);
    assert.equal(retryInterval(40, policy), 20 * MINUTE);
    assert.equal(retryDelay({ attempt: 7, policy, notAfter: far, now, random: low }), 10 * MINUTE);
  });

  it("returns null once the configured attempts are used up", () => {
    assert.equal(retryDelay({ attempt: 8, policy, notAfter: far, now }), null);
    assert.equal(retryDelay({ attempt: 9, policy, notAfter: far, now }), null);
  });

  it("shrinks near expiry so the next attempt leaves three intervals of validity", () => {
    // attempt 5: interval 16 min; the next attempt must start by notAfter − 48 min
    const notAfter = new Date(now.getTime() + 52 * MINUTE);
    assert.equal(retryDelay({ attempt: 5, policy, notAfter, now, random: high }), 4 * MINUTE);
  });

  it("never shrinks below half the base backoff, even after expiry", () => {
    const soon = new Date(now.getTime() + 10 * MINUTE);
    const past = new Date(now.getTime() - MINUTE);
    assert.equal(retryDelay({ attempt: 5, policy, notAfter: soon, now, random: high }), MINUTE / 2);
    assert.equal(retryDelay({ attempt: 2, policy, notAfter: past, now, random: high }), MINUTE / 2);
  });

  it("adds up the whole retry budget as the sum of the capped intervals", () => {
    assert.equal(retryBudgetMs(policy), (1 + 2 + 4 + 8 + 16 + 20 + 20) * MINUTE);
    assert.equal(retryBudgetMs({ ...policy, attempts: 1 }), 0);
  });
});
