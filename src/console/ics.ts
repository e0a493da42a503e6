/**
 * The fleet as an iCalendar feed (RFC 5545) for ops calendars: one event at each certificate's expiry and
 * one at each scheduled rotation. Lines end in CRLF and are folded at 75 octets (§3.1) without splitting a
 * UTF-8 character; text values are escaped (§3.3.11). UIDs are stable across refreshes of the same facts,
 * so a calendar updates its events instead of duplicating them.
 */
import type { FleetRow } from "./fleet.js";

const stamp = (iso: string): string => iso.replace(/[-:]/g, "").replace(/\.\d{3}/, "");

export function escapeText(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/;/g, "\\;").replace(/,/g, "\\,").replace(/\r?\n/g, "\\n");
}

/** One content line folded into pieces of at most 75 octets, continuation lines starting with a space. */
export function foldLine(line: string): string {
  const bytes = Buffer.from(line, "utf8");
  if (bytes.length <= 75) return line;
  const pieces: string[] = [];
  let start = 0;
  let limit = 75;
  while (start < bytes.length) {
    let end = Math.min(start + limit, bytes.length);
    // back off to a character boundary: a continuation byte is 10xxxxxx
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    pieces.push(bytes.subarray(start, end).toString("utf8"));
    start = end;
    limit = 74; // the leading space counts
  }
  return pieces.join("\r\n ");
}

interface Event {
  uid: string;
  start: string;
  minutes: number;
  summary: string;
  description: string;
  categories: string;
}

function eventsOf(row: FleetRow): Event[] {
  const events: Event[] = [];
  if (row.notAfter) {
    events.push({
      uid: `expiry-${row.id}-${stamp(row.notAfter)}@certrotor`,
      start: row.notAfter,
      minutes: 15,
      summary: `${row.id} expires`,
      description: `Certificate ${row.fingerprint ?? ""} of ${row.id} (bank ${row.bank}, store ${row.store}) expires. State: ${row.state}.`,
      categories: "EXPIRY",
    });
  }
  if (row.dueAt && (!row.notAfter || row.dueAt < row.notAfter)) {
    events.push({
      uid: `rotation-${row.id}-${stamp(row.notAfter ?? row.dueAt)}@certrotor`,
      start: row.nextWindow && row.nextWindow > row.dueAt ? row.nextWindow : row.dueAt,
      minutes: 30,
      summary: `${row.id} scheduled rotation`,
      description: `certrotor plans to rotate ${row.id} (bank ${row.bank}) from this time.`,
      categories: "ROTATION",
    });
  }
  return events;
}

export function fleetCalendar(rows: readonly FleetRow[], now: Date): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//certrotor//ops console//EN",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    "X-WR-CALNAME:certrotor expiries and rotations",
  ];
  const dtstamp = stamp(now.toISOString());
  for (const row of rows) {
    for (const event of eventsOf(row)) {
      const end = new Date(Date.parse(event.start) + event.minutes * 60_000).toISOString();
      lines.push(
        "BEGIN:VEVENT",
        `UID:${escapeText(event.uid)}`,
        `DTSTAMP:${dtstamp}`,
        `DTSTART:${stamp(event.start)}`,
        `DTEND:${stamp(end)}`,
        `SUMMARY:${escapeText(event.summary)}`,
        `DESCRIPTION:${escapeText(event.description)}`,
        `CATEGORIES:${event.categories}`,
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
      );
    }
  }
  lines.push("END:VCALENDAR");
  return `${lines.map(foldLine).join("\r\n")}\r\n`;
}
