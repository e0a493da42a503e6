import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CronExpressionParser } from "cron-parser";
import { isCertrotorError } from "../../src/errors.js";
import { inWindow, nextRuns, nextWindowOpening, validateCron } from "../../src/rotation/window.js";

const window = { cron: "* 9-16 * * 1-5", timezone: "America/Sao_Paulo" };

describe("cron validation", () => {
  const bad: { pattern: string; where: string; fragment: RegExp }[] = [
    { pattern: "* 25 * * *", where: "renewal.window.cron", fragment: /got value 25 expected range 0-23/ },
    { pattern: "bogus", where: "schedules.scan", fragment: /invalid cron pattern "bogus"/ },
    { pattern: "   ", where: "credentials[2].renewal.window.cron", fragment: /empty cron pattern/ },
    { pattern: "* * * * * * *", where: "schedules.retire", fragment: /too many fields/ },
    { pattern: "0 0 30 2 *", where: "renewal.window.cron", fragment: /invalid cron pattern/ },
  ];
  for (const c of bad) {
    it(`refuses "${c.pattern}" with BAD_CRON on one line naming ${c.where}`, () => {
      assert.throws(
        () => validateCron(c.pattern, c.where),
        (error) =>
          isCertrotorError(error, "BAD_CRON") &&
          error.message.startsWith(`${c.where}: `) &&
          c.fragment.test(error.message) &&
          !error.message.includes("\n"),
      );
    });
  }

  it("accepts 5-field and 6-field patterns", () => {
    validateCron("* 9-16 * * 1-5", "renewal.window.cron", "America/Sao_Paulo");
    validateCron("0 */15 * * * *", "schedules.scan");
  });

  it("refuses an unknown time zone with CONFIG_INVALID naming where", () => {
    assert.throws(
      () => validateCron("* * * * *", "renewal.window", "Mars/Olympus"),
      (error) =>
        isCertrotorError(error, "CONFIG_INVALID") &&
        /^renewal\.window: unknown time zone/.test(error.message),
    );
  });
});

describe("next runs", () => {
  it("lists the next runs in the pattern's time zone", () => {
    const friday18 = new Date("2025-03-14T21:00:00Z");
    const runs = nextRuns("0 9 * * 1-5", "America/Sao_Paulo", friday18, 3);
    assert.deepEqual(
      runs.map((d) => d.toISOString()),
      ["2025-03-17T12:00:00.000Z", "2025-03-18T12:00:00.000Z", "2025-03-19T12:00:00.000Z"],
    );
  });
});

describe("rotation window", () => {
  it("contains every second of a matching minute and nothing outside", () => {
    assert.equal(inWindow(window, new Date("2025-03-17T12:00:00Z")), true); // Mon 09:00:00 local
    assert.equal(inWindow(window, new Date("2025-03-17T19:59:59Z")), true); // Mon 16:59:59 local
    assert.equal(inWindow(window, new Date("2025-03-17T20:00:00Z")), false); // Mon 17:00 local
    assert.equal(inWindow(window, new Date("2025-03-15T14:00:00Z")), false); // Saturday
  });

  it("opens now when inside, else at the next matching minute, else not before the limit", () => {
    const inside = new Date("2025-03-17T13:30:45Z");
    const limit = new Date("2025-04-01T00:00:00Z");
    assert.deepEqual(nextWindowOpening(window, inside, limit), inside);
    assert.deepEqual(nextWindowOpening(window, inside, new Date(0)), inside, "inside: no limit applies");
    const friday1730 = new Date("2025-03-14T20:30:15Z");
    assert.deepEqual(nextWindowOpening(window, friday1730, limit), new Date("2025-03-17T12:00:00Z"));
    assert.equal(nextWindowOpening(window, friday1730, new Date("2025-03-17T11:59:59Z")), null);
  });

  const patterns: [string, string][] = [
    ["* 9-16 * * 1-5", "America/Sao_Paulo"],
    ["* 9-16 * * 1-5", "America/New_York"],
    ["*/20 0-3 * * *", "Europe/London"], // crosses both DST changes
    ["15 1 * * *", "Europe/London"], // 01:15 happens twice on the autumn change
    ["* * L * *", "UTC"],
    ["0 0 * * 5#3", "Asia/Kolkata"],
    ["*/7 * 1,15 * 1", "Australia/Adelaide"],
  ];
  for (const [cron, timezone] of patterns) {
    it(`finds the same openings as cron-parser's next() for "${cron}" in ${timezone} over a year`, () => {
      const start = Date.parse("2025-01-01T00:00:00Z");
      // every 37h07m13s: lands on every hour of the day and every weekday over the year
      for (let t = start; t < start + 400 * 86_400_000; t += 37 * 3_600_000 + 7 * 60_000 + 13_000) {
        const from = new Date(t);
        const reference = CronExpressionParser.parse(cron, { tz: timezone, currentDate: from });
        const minuteStart = new Date(Math.floor(t / 60_000) * 60_000);
        const expected = reference.includesDate(minuteStart)
          ? from
          : new Date(Math.floor(reference.next().toDate().getTime() / 60_000) * 60_000);
        const got = nextWindowOpening({ cron, timezone }, from, new Date(t + 800 * 86_400_000));
        assert.equal(got?.toISOString(), expected.toISOString(), `from ${from.toISOString()}`);
      }
    });
  }

  it("does not open in a minute the clock skips (02:30 on the spring-forward Sunday in New York)", () => {
    const w = { cron: "30 2 * * 0", timezone: "America/New_York" };
    const opening = nextWindowOpening(w, new Date("2025-03-08T12:00:00Z"), new Date("2025-12-31T00:00:00Z"));
    assert.equal(opening?.toISOString(), "2025-03-16T06:30:00.000Z"); // the next Sunday's 02:30 EDT
  });
});
