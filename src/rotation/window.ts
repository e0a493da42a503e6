/**
 * Cron patterns as schedules and as rotation windows (cron-parser 5).
 *
 * A window is the set of minutes a cron pattern matches, read in its time zone: `* 9-16 * * 1-5` in
 * America/Sao_Paulo is weekdays 09:00–16:59 local time. A 6-field pattern's seconds field is ignored for
 * windows (a window is made of whole minutes).
 *
 * Bad patterns fail loudly (BAD_CRON naming the config path) instead of silently scheduling nothing, the
 * way BullMQ's cron helper does when it ignores the parse error.
 */
import { type CronExpression, CronExpressionParser } from "cron-parser";
import { CertrotorError } from "../errors.js";

export interface RotationWindow {
  cron: string;
  timezone: string;
}

const MINUTE_MS = 60_000;

/** Throws CONFIG_INVALID naming `where` when `timezone` is not an IANA zone this runtime knows. */
export function validateTimezone(timezone: string, where: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch (cause) {
    throw new CertrotorError("CONFIG_INVALID", `${where}: unknown time zone "${timezone}"`, {
      cause,
      hint: 'use an IANA zone name such as "UTC" or "America/Sao_Paulo"',
      details: { where },
    });
  }
}

function parse(pattern: string, timezone: string, from: Date): CronExpression {
  return CronExpressionParser.parse(pattern, { tz: timezone, currentDate: from });
}

/**
 * Throws BAD_CRON with a one-line message naming `where` (e.g. `renewal.window.cron`) when the pattern
 * cannot be parsed, is empty, or never matches (e.g. `0 0 30 2 *`).
 */
export function validateCron(pattern: string, where: string, timezone = "UTC"): void {
  validateTimezone(timezone, where);
  const fail = (reason: string, cause?: unknown): never => {
    throw new CertrotorError("BAD_CRON", `${where}: ${reason}`, {
      cause,
      hint: 'use 5 fields "min hour day-of-month month day-of-week" or 6 with leading seconds',
      details: { where },
    });
  };
  if (pattern.trim() === "") fail("empty cron pattern");
  let expression: CronExpression | undefined;
  try {
    expression = parse(pattern, timezone, new Date(0));
  } catch (cause) {
    fail(`invalid cron pattern "${pattern}": ${(cause as Error).message}`, cause);
  }
  try {
    expression?.next();
  } catch (cause) {
    fail(`cron pattern "${pattern}" never matches`, cause);
  }
}

/** The next `n` times the pattern fires strictly after `from` (for `status` and schedule listings). */
export function nextRuns(pattern: string, timezone: string, from: Date, n: number): Date[] {
  validateCron(pattern, "cron", timezone);
  const expression = parse(pattern, timezone, from);
  const runs: Date[] = [];
  for (let i = 0; i < n; i++) {
    try {
      runs.push(expression.next().toDate());
    } catch {
      break; // no further match within cron-parser's search limit: the list is simply shorter
    }
  }
  return runs;
}

/** True when `at` lies in a minute the window's pattern matches. */
export function inWindow(window: RotationWindow, at: Date): boolean {
  const expression = parse(window.cron, window.timezone, at);
  const minuteStart = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  // includesDate compares seconds too; probe at the pattern's first second so whole minutes count.
  const second = expression.fields.second.values[0] ?? 0;
  return expression.includesDate(new Date(minuteStart + second * 1000));
}

/**
 * The earliest time at or after `from` inside the window: `from` itself when it is inside, else the start
 * of the next matching minute. Null when there is none at or before `until`.
 */
export function nextWindowOpening(window: RotationWindow, from: Date, until: Date): Date | null {
  if (inWindow(window, from)) return from;
  if (from.getTime() > until.getTime()) return null;
  let opening: Date;
  try {
    opening = parse(window.cron, window.timezone, from).next().toDate();
  } catch {
    return null; // cron-parser found no match within its search limit
  }
  const minuteStart = new Date(Math.floor(opening.getTime() / MINUTE_MS) * MINUTE_MS);
  return minuteStart.getTime() <= until.getTime() ? minuteStart : null;
}
