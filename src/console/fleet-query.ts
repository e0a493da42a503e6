/**
 * Filter, sort, search and page the fleet snapshot: a pure function of the rows and the query string, so
 * the HTML page, its htmx fragment and the JSON API answer the same page.
 */
import { FLEET_STATES, type FleetRow, type FleetState } from "./fleet.js";

export const SORT_KEYS = ["id", "bank", "store", "daysLeft", "state", "lastRotation", "nextWindow"] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface FleetQuery {
  q: string;
  state?: FleetState;
  bank?: string;
  store?: string;
  sort: SortKey;
  dir: "asc" | "desc";
  page: number;
  size: number;
}

export const PAGE_SIZES = [25, 50, 100, 200] as const;

const one = (value: unknown): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" && first !== "" ? first : undefined;
};

/** The query from a request's query string; anything unknown falls back to the default (never an error). */
export function parseFleetQuery(raw: Record<string, unknown>): FleetQuery {
  const state = one(raw.state);
  const sort = one(raw.sort);
  const size = Number(one(raw.size));
  const page = Number(one(raw.page));
  const bank = one(raw.bank);
  const store = one(raw.store);
  return {
    q: (one(raw.q) ?? "").slice(0, 200),
    ...(state && (FLEET_STATES as readonly string[]).includes(state) ? { state: state as FleetState } : {}),
    ...(bank ? { bank } : {}),
    ...(store ? { store } : {}),
    sort: sort && (SORT_KEYS as readonly string[]).includes(sort) ? (sort as SortKey) : "daysLeft",
    dir: one(raw.dir) === "desc" ? "desc" : "asc",
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
    size: (PAGE_SIZES as readonly number[]).includes(size) ? size : PAGE_SIZES[0],
  };
}

const STATE_ORDER: Record<FleetState, number> = {
  expired: 0,
  failing: 1,
  "awaiting-person": 2,
  rotating: 3,
  due: 4,
  ok: 5,
};

function sortValue(row: FleetRow, key: SortKey): string | number {
  switch (key) {
    case "daysLeft":
      return row.daysLeft ?? Number.NEGATIVE_INFINITY;
    case "state":
      return STATE_ORDER[row.state];
    case "lastRotation":
      return row.lastRotation?.at ?? "";
    case "nextWindow":
      return row.nextWindow ?? "";
    default:
      return row[key];
  }
}

export interface FleetPage {
  query: FleetQuery;
  rows: FleetRow[];
  total: number;
  pages: number;
  /** Counts by state over the filtered rows before paging (for the summary line). */
  counts: Record<FleetState, number>;
}

export function queryFleet(all: readonly FleetRow[], query: FleetQuery): FleetPage {
  const needle = query.q.toLowerCase();
  const matched = all.filter(
    (row) =>
      (!query.bank || row.bank === query.bank) &&
      (!query.store || row.store === query.store) &&
      (!needle ||
        row.id.toLowerCase().includes(needle) ||
        (row.subject?.toLowerCase().includes(needle) ?? false) ||
        (row.fingerprint?.startsWith(needle) ?? false)),
  );
  const counts = Object.fromEntries(FLEET_STATES.map((s) => [s, 0])) as Record<FleetState, number>;
  for (const row of matched) counts[row.state]++;
  const filtered = query.state ? matched.filter((row) => row.state === query.state) : matched;
  const sign = query.dir === "asc" ? 1 : -1;
  const sorted = filtered.slice().sort((a, b) => {
    const x = sortValue(a, query.sort);
    const y = sortValue(b, query.sort);
    const order = x < y ? -1 : x > y ? 1 : 0;
    return order * sign || a.id.localeCompare(b.id);
  });
  const pages = Math.max(1, Math.ceil(sorted.length / query.size));
  const page = Math.min(query.page, pages);
  const start = (page - 1) * query.size;
  return {
    query: { ...query, page },
    rows: sorted.slice(start, start + query.size),
    total: sorted.length,
    pages,
    counts,
  };
}

/** The query as a query string (links of the pager and the sort headers); `patch` overrides fields. */
export function fleetQueryString(query: FleetQuery, patch: Partial<FleetQuery> = {}): string {
  const merged = { ...query, ...patch };
  const params = new URLSearchParams();
  if (merged.q) params.set("q", merged.q);
  if (merged.state) params.set("state", merged.state);
  if (merged.bank) params.set("bank", merged.bank);
  if (merged.store) params.set("store", merged.store);
  params.set("sort", merged.sort);
  params.set("dir", merged.dir);
  params.set("page", String(merged.page));
  params.set("size", String(merged.size));
  return params.toString();
}
