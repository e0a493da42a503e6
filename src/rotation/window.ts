/**
 * Cron patterns as schedules and as rotation windows (cron-parser 5).
 *
 * A window is the set of minutes a cron pattern matches, read in its time zone: `* 9-16 * * 1-5` in
 * America/Sao_Paulo is weekdays 09:00–16:59 local time. A 6-field pattern's seconds field is ignored for
 * windows (a window is made of whole minutes). A window minute the local clock skips (a DST gap) is not an
 * opening; cron-parser's next() would move it to the following hour instead.
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
function validateTimezone(timezone: string, where: string): void {
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

/** Patterns already found valid, per zone: validation runs cron-parser's search, so it is done once. */
const validated = new Set<string>();

/**
 * Throws BAD_CRON with a one-line message naming `where` (e.g. `renewal.window.cron`) when the pattern
 * cannot be parsed, is empty, or never matches (e.g. `0 0 30 2 *`).
 */
export function validateCron(pattern: string, where: string, timezone = "UTC"): void {
  if (validated.has(`${timezone}\n${pattern}`)) return;
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
  if (validated.size >= 256) validated.clear();
  validated.add(`${timezone}\n${pattern}`);
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

// ---------------------------------------------------------------- windows
//
// A scan decides for thousands of credentials; cron-parser's next() costs milliseconds per call, so a
// window is compiled once per (pattern, zone): minute and hour sets from cron-parser's own parsed fields,
// and a day-only expression (`0 * * <dom> <month> <dow>`, from cron-parser's normalized form, so L, # and
// names keep cron-parser's meaning) whose answer is memoized per local date. The walk below then costs a
// few Intl calls per skipped hour or day. window.test.ts checks it against cron-parser's next().

interface CompiledWindow {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  day: CronExpression;
  local: Intl.DateTimeFormat;
  /** Local date "Y-M-D" → whether the day fields match. */
  days: Map<string, boolean>;
  /** Minute start → first opening found from it (null: none up to `searched`); a scan asks for `now` often. */
  openings: Map<number, { opening: number | null; searched: number }>;
}

const compiledWindows = new Map<string, CompiledWindow>();
const MAX_COMPILED = 64;
const MAX_STEPS = 100_000;

function compile(window: RotationWindow): CompiledWindow {
  const id = `${window.timezone}\n${window.cron}`;
  const cached = compiledWindows.get(id);
  if (cached) return cached;
  validateCron(window.cron, "window.cron", window.timezone);
  // a fixed hash seed: an H in a window pattern means the same minutes in every process
  const expression = CronExpressionParser.parse(window.cron, { tz: window.timezone, hashSeed: "certrotor" });
  const [, , , dom, month, dow] = expression.stringify(true).split(" ");
  const compiled: CompiledWindow = {
    minutes: new Set(expression.fields.minute.values as number[]),
    hours: new Set(expression.fields.hour.values as number[]),
    day: CronExpressionParser.parse(`0 * * ${dom} ${month} ${dow}`, { tz: window.timezone }),
    local: new Intl.DateTimeFormat("en-US", {
      timeZone: window.timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    }),
    days: new Map(),
    openings: new Map(),
  };
  if (compiledWindows.size >= MAX_COMPILED) compiledWindows.clear();
  compiledWindows.set(id, compiled);
  return compiled;
}

/** Local hour, minute and whether the local day matches, for the minute starting at `minuteStart`. */
function localMinute(
  c: CompiledWindow,
  minuteStart: number,
): { hour: number; minute: number; dayOk: boolean } {
  const parts: Record<string, string> = {};
  for (const part of c.local.formatToParts(minuteStart)) parts[part.type] = part.value;
  const key = `${parts.year}-${parts.month}-${parts.day}`;
  let dayOk = c.days.get(key);
  if (dayOk === undefined) {
    dayOk = c.day.includesDate(new Date(minuteStart));
    c.days.set(key, dayOk);
  }
  return { hour: Number(parts.hour), minute: Number(parts.minute), dayOk };
}

/** Minutes to jump from a minute outside the window without stepping over a minute inside it. */
function skipMinutes(c: CompiledWindow, at: { hour: number; minute: number; dayOk: boolean }): number {
  const toNextHour = 60 - at.minute;
  if (!at.dayOk) {
    // towards local midnight, stopping an hour short: a DST day may be 23 hours long
    const toMidnight = (23 - at.hour) * 60 + toNextHour;
    return toMidnight > 60 ? toMidnight - 60 : toMidnight;
  }
  if (!c.hours.has(at.hour)) return toNextHour;
  for (let m = at.minute + 1; m < 60; m++) if (c.minutes.has(m)) return m - at.minute;
  return toNextHour;
}

/** True when `at` lies in a minute the window's pattern matches. */
export function inWindow(window: RotationWindow, at: Date): boolean {
  const c = compile(window);
  const local = localMinute(c, Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS);
  return local.dayOk && c.hours.has(local.hour) && c.minutes.has(local.minute);
}

/**
 * The earliest time at or after `from` inside the window: `from` itself when it is inside (whatever
 * `until` says), else the start of the next matching minute. Null when there is none at or before `until`.
 */
export function nextWindowOpening(window: RotationWindow, from: Date, until: Date): Date | null {
  const c = compile(window);
  const start = Math.floor(from.getTime() / MINUTE_MS) * MINUTE_MS;
  let found = c.openings.get(start);
  if (!found || (found.opening === null && found.searched < until.getTime())) {
    found = { opening: walk(c, start, until.getTime()), searched: until.getTime() };
    if (c.openings.size >= 4096) c.openings.clear();
    c.openings.set(start, found);
  }
  if (found.opening === start) return from; // inside the window now: no limit applies
  if (found.opening === null || found.opening > until.getTime()) return null;
  return new Date(found.opening);
}

/** The first window minute at or after `minuteStart`, or null when none comes up to `until`. */
function walk(c: CompiledWindow, minuteStart: number, until: number): number | null {
  let at = minuteStart;
  for (let step = 0; step < MAX_STEPS; step++) {
    const local = localMinute(c, at);
    if (local.dayOk && c.hours.has(local.hour) && c.minutes.has(local.minute)) return at;
    at += skipMinutes(c, local) * MINUTE_MS;
    if (at > until) return null;
  }
  return null;
}
