import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
    const friday1730 = new Date("2025-03-14T20:30:15Z");
    assert.deepEqual(nextWindowOpening(window, friday1730, limit), new Date("2025-03-17T12:00:00Z"));
    assert.equal(nextWindowOpening(window, friday1730, new Date("2025-03-17T11:59:59Z")), null);
  });
});
