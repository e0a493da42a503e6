/** The fleet page: filters (a plain GET form that htmx upgrades to live filtering) and one page of rows. */
import { FLEET_STATES, type FleetRow } from "../fleet.js";
import {
  type FleetPage,
  type FleetQuery,
  fleetQueryString,
  PAGE_SIZES,
  type SortKey,
} from "../fleet-query.js";
import { day, type Html, html } from "./html.js";

/** Days-left colour: red under a week (or expired), amber under 30 days. */
export function daysClass(days: number | undefined): string {
  if (days === undefined || days < 7) return "days-bad";
  return days < 30 ? "days-warn" : "days-ok";
}

export const stateLabel = (state: FleetRow["state"]): string =>
  state === "awaiting-person" ? "awaiting a person" : state;

export function stateBadge(state: FleetRow["state"]): Html {
  return html`<span class="state state-${state}">${stateLabel(state)}</span>`;
}

const COLUMNS: Array<{ key: SortKey | null; label: string }> = [
  { key: "id", label: "Credential" },
  { key: "bank", label: "Bank" },
  { key: "store", label: "Store" },
  { key: "daysLeft", label: "Days left" },
  { key: "state", label: "State" },
  { key: null, label: "Bound slots" },
  { key: "lastRotation", label: "Last rotation" },
  { key: "nextWindow", label: "Next window" },
];

function header(query: FleetQuery, key: SortKey | null, label: string): Html {
  if (!key) return html`<th scope="col">${label}</th>`;
  const active = query.sort === key;
  const dir = active && query.dir === "asc" ? "desc" : "asc";
  const sort = active ? (query.dir === "asc" ? "ascending" : "descending") : "none";
  const href = `/?${fleetQueryString(query, { sort: key, dir, page: 1 })}`;
  return html`<th scope="col" aria-sort="${sort}"><a href="${href}" hx-get="/fleet/rows?${fleetQueryString(query, { sort: key, dir, page: 1 })}" hx-target="#fleet" hx-push-url="${href}">${label}${active ? (query.dir === "asc" ? " ▲" : " ▼") : ""}</a></th>`;
}

function row(r: FleetRow): Html {
  return html`<tr data-credential="${r.id}">
<td><a href="/credentials/${encodeURIComponent(r.id)}">${r.id}</a></td>
<td>${r.bank}</td><td>${r.store}</td>
<td class="${daysClass(r.daysLeft)}">${r.daysLeft ?? "—"}</td>
<td title="${r.message}">${stateBadge(r.state)}</td>
<td>${r.boundSlots ?? "—"}</td>
<td>${r.lastRotation ? html`${day(r.lastRotation.at)} <span class="muted">${r.lastRotation.status}</span>` : html`<span class="muted">never</span>`}</td>
<td>${day(r.nextWindow)}</td>
</tr>`;
}

/** The part htmx swaps: summary, table and pager. */
export function fleetRows(page: FleetPage): Html {
  const { query } = page;
  const link = (p: number, label: string): Html =>
    html`<a href="/?${fleetQueryString(query, { page: p })}" hx-get="/fleet/rows?${fleetQueryString(query, { page: p })}" hx-target="#fleet" hx-push-url="/?${fleetQueryString(query, { page: p })}">${label}</a>`;
  const counts = FLEET_STATES.filter((s) => page.counts[s] > 0).map(
    (s) => html` · ${page.counts[s]} ${stateLabel(s)}`,
  );
  return html`<p role="status" id="fleet-summary">${page.total} credential${page.total === 1 ? "" : "s"}${counts}</p>
<table>
<thead><tr>${COLUMNS.map((c) => header(query, c.key, c.label))}</tr></thead>
<tbody>${page.rows.map(row)}</tbody>
</table>
<nav class="pager" aria-label="Pages">
${query.page > 1 ? link(query.page - 1, "← Previous") : ""}
<span>Page ${query.page} of ${page.pages}</span>
${query.page < page.pages ? link(query.page + 1, "Next →") : ""}
</nav>`;
}

export function fleetPage(
  page: FleetPage,
  banks: readonly string[],
  stores: readonly string[],
  builtAt: string,
): Html {
  const q = page.query;
  const options = (
    values: readonly string[],
    selected: string | undefined,
    label: (v: string) => string = (v) => v,
  ) =>
    values.map(
      (v) => html`<option value="${v}"${selected === v ? html` selected` : ""}>${label(v)}</option>`,
    );
  return html`<h1>Fleet</h1>
<form class="filters" method="get" action="/" hx-get="/fleet/rows" hx-target="#fleet" hx-trigger="input changed delay:250ms from:input, change" hx-push-url="true" role="search">
<label>Search <input type="search" name="q" value="${q.q}" placeholder="id, subject or fingerprint"></label>
<label>State <select name="state"><option value="">any</option>${options(FLEET_STATES, q.state, (s) => stateLabel(s as FleetRow["state"]))}</select></label>
<label>Bank <select name="bank"><option value="">any</option>${options(banks, q.bank)}</select></label>
<label>Store <select name="store"><option value="">any</option>${options(stores, q.store)}</select></label>
<label>Per page <select name="size">${options(PAGE_SIZES.map(String), String(q.size))}</select></label>
<input type="hidden" name="sort" value="${q.sort}"><input type="hidden" name="dir" value="${q.dir}">
<button type="submit">Apply</button>
</form>
<p class="muted">As of ${day(builtAt)} <span class="mono">${builtAt.slice(11, 19)}</span> UTC.</p>
<div id="fleet">${fleetRows(page)}</div>`;
}
