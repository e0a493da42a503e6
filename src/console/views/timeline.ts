/**
 * The timeline: an SVG calendar of the next 12 months, one lane per credential, with the rotation window
 * (from the planned rotation point to expiry), the planned point and the expiry. The lanes are the
 * credentials expiring soonest (a page of them), and the same facts follow as a table for screen readers.
 */
import type { FleetRow } from "../fleet.js";
import { day, escapeHtml, type Html, html, raw } from "./html.js";

const LEFT = 180;
const WIDTH = 1100;
const LANE = 18;
const TOP = 28;

export function timelineSvg(rows: readonly FleetRow[], now: Date): Html {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const end = Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth() + 1, 1);
  const x = (t: number): number =>
    LEFT + ((Math.min(Math.max(t, start), end) - start) / (end - start)) * (WIDTH - LEFT - 10);
  const height = TOP + rows.length * LANE + 10;
  const parts: string[] = [];
  for (let m = 0; m <= 12; m++) {
    const at = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + m, 1);
    const label = new Date(at).toISOString().slice(0, 7);
    parts.push(`<line class="grid" x1="${x(at)}" x2="${x(at)}" y1="${TOP - 8}" y2="${height}"/>`);
    if (m < 12) parts.push(`<text x="${x(at) + 3}" y="${TOP - 12}">${label}</text>`);
  }
  parts.push(
    `<line class="today" x1="${x(now.getTime())}" x2="${x(now.getTime())}" y1="${TOP - 8}" y2="${height}" stroke-width="2"/>`,
  );
  rows.forEach((r, i) => {
    const y = TOP + i * LANE;
    const id = escapeHtml(r.id);
    parts.push(`<text x="4" y="${y + 12}">${id.length > 26 ? `${id.slice(0, 25)}…` : id}</text>`);
    const expiry = r.notAfter ? Date.parse(r.notAfter) : undefined;
    const planned = r.dueAt ? Date.parse(r.dueAt) : undefined;
    if (planned !== undefined && expiry !== undefined && planned < end) {
      parts.push(
        `<rect class="window" x="${x(planned)}" y="${y + 3}" width="${Math.max(2, x(expiry) - x(planned))}" height="${LANE - 6}"><title>${id}: rotation window ${r.dueAt} to ${r.notAfter}</title></rect>`,
      );
      parts.push(
        `<circle class="planned" cx="${x(planned)}" cy="${y + LANE / 2}" r="4"><title>${id}: planned rotation ${r.dueAt}</title></circle>`,
      );
    }
    if (r.nextWindow && r.nextWindow !== r.dueAt && Date.parse(r.nextWindow) < end) {
      parts.push(
        `<circle class="planned" cx="${x(Date.parse(r.nextWindow))}" cy="${y + LANE / 2}" r="2.5"><title>${id}: window opens ${r.nextWindow}</title></circle>`,
      );
    }
    if (expiry !== undefined && expiry < end) {
      const ex = x(expiry);
      parts.push(
        `<rect class="expiry" x="${ex - 3}" y="${y + 3}" width="6" height="${LANE - 6}"><title>${id}: expires ${r.notAfter}</title></rect>`,
      );
    }
  });
  return raw(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="timeline-title"><title id="timeline-title">Expiries, planned rotations and rotation windows of the next 12 months</title>${parts.join("")}</svg>`,
  );
}

export function timelinePage(
  rows: readonly FleetRow[],
  total: number,
  now: Date,
  bank: string | undefined,
): Html {
  return html`<h1>Timeline</h1>
<p>The next 12 months: <span class="days-bad">■</span> expiry, <span style="color:var(--run)">●</span> planned rotation, shaded: the rotation window. ${rows.length} of ${total} credential${total === 1 ? "" : "s"} expiring within the year${bank ? html` at bank ${bank}` : ""}, soonest first.</p>
<div class="panel">${timelineSvg(rows, now)}</div>
<table><caption class="muted">The same, as a table</caption>
<thead><tr><th scope="col">Credential</th><th scope="col">Planned rotation</th><th scope="col">Next window</th><th scope="col">Expires</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td><a href="/credentials/${encodeURIComponent(r.id)}">${r.id}</a></td><td>${day(r.dueAt)}</td><td>${day(r.nextWindow)}</td><td>${day(r.notAfter)}</td></tr>`)}</tbody>
</table>`;
}
