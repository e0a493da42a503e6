/**
 * The fleet as the console shows it: one row per credential, built from a scan (src/rotation/scan.ts, the
 * same reads as `certrotor scan`), the journal (last rotation, what is running) and the open alert
 * episodes and tasks. Building it reads every store and bank, so it is kept as a snapshot that is rebuilt
 * when older than console.refresh (or after an action); pages filter, sort and page the snapshot, which
 * stays fast at 10,000 credentials.
 */
import pLimit from "p-limit";
import type { RotationRecord } from "../journal/types.js";
import type { ResolvedCredential } from "../rotation/credentials.js";
import { listCredentials } from "../rotation/credentials.js";
import { type ScanEntry, scan } from "../rotation/scan.js";
import { nextWindowOpening } from "../rotation/window.js";
import type { Runtime } from "../runtime.js";
import type { TaskView } from "./tasks.js";

export const FLEET_STATES = ["ok", "due", "rotating", "awaiting-person", "failing", "expired"] as const;
export type FleetState = (typeof FLEET_STATES)[number];

export interface FleetRow {
  id: string;
  bank: string;
  store: string;
  subject?: string;
  fingerprint?: string;
  notAfter?: string;
  daysLeft?: number;
  state: FleetState;
  /** Why it is in that state (safe text). */
  message: string;
  boundSlots?: number;
  lastRotation?: { rotationId: string; status: RotationRecord["status"]; at: string };
  /** When the next scheduled rotation may start (the renewal time, or the window's next opening). */
  nextWindow?: string;
  /** The planned rotation point (renewal time with jitter). */
  dueAt?: string;
  openAlerts: number;
}

export interface FleetSnapshot {
  at: string;
  rows: FleetRow[];
  /**
   * The credentials the rows are of, by id: a page about one of them needs no store listing to find a
   * discovered credential again (at 10,000 that is some 20 store requests).
   */
  credentials?: ReadonlyMap<string, ResolvedCredential>;
}

export type FleetRuntime = Pick<Runtime, "config" | "stores" | "banks" | "journal" | "episodes" | "now">;

function stateOf(
  entry: ScanEntry,
  latest: RotationRecord | null,
  active: RotationRecord | undefined,
  alerts: number,
  tasks: number,
): FleetState {
  if (entry.decision === "expired") return "expired";
  if (tasks > 0) return "awaiting-person";
  if (active?.status === "running") return "rotating";
  if (entry.decision === "broken" || alerts > 0) return "failing";
  if (latest && (latest.status === "failed" || latest.status === "rolled-back")) return "failing";
  if (entry.decision === "due" || entry.decision === "due-now") return "due";
  return "ok";
}

function nextWindowOf(credential: ResolvedCredential, entry: ScanEntry, now: Date): string | undefined {
  if (!entry.dueAt) return undefined;
  // a renewal time already past means "from now on" (the next scan picks it up)
  const from = new Date(Math.max(now.getTime(), Date.parse(entry.dueAt)));
  const window = credential.policy.window;
  if (!window || !entry.notAfter) return from.toISOString();
  return nextWindowOpening(window, from, new Date(entry.notAfter))?.toISOString() ?? from.toISOString();
}

/** The rows of every managed credential, or of `only` (the credential page's live row). */
export async function buildFleet(
  runtime: FleetRuntime,
  tasks: TaskView,
  only?: readonly ResolvedCredential[],
): Promise<FleetSnapshot> {
  const now = runtime.now();
  const credentials = only ?? (await listCredentials(runtime.config, runtime.stores));
  const byId = new Map(credentials.map((c) => [c.id, c] as const));
  const report = await scan({ ...runtime, credentials });
  const active = new Map((await runtime.journal.active()).map((r) => [r.credentialId, r] as const));
  const openTasks = new Map<string, number>();
  for (const task of await tasks.open(only?.length === 1 ? only[0]!.id : undefined))
    openTasks.set(task.credentialId, (openTasks.get(task.credentialId) ?? 0) + 1);
  const limit = pLimit(16);
  const rows = await Promise.all(
    report.entries.map((entry) =>
      limit(async (): Promise<FleetRow> => {
        const credential = byId.get(entry.credentialId)!;
        const [latest, episodes] = await Promise.all([
          runtime.journal.latest(entry.credentialId),
          runtime.episodes.list(entry.credentialId),
        ]);
        const next = nextWindowOf(credential, entry, now);
        return {
          id: entry.credentialId,
          bank: credential.bank,
          store: entry.store,
          ...(entry.subject ? { subject: entry.subject } : {}),
          ...(entry.fingerprint ? { fingerprint: entry.fingerprint } : {}),
          ...(entry.notAfter ? { notAfter: entry.notAfter } : {}),
          ...(entry.daysLeft !== undefined ? { daysLeft: entry.daysLeft } : {}),
          state: stateOf(
            entry,
            latest,
            active.get(entry.credentialId),
            episodes.length,
            openTasks.get(entry.credentialId) ?? 0,
          ),
          message: entry.message,
          ...(entry.boundSlots !== undefined ? { boundSlots: entry.boundSlots } : {}),
          ...(latest
            ? {
                lastRotation: {
                  rotationId: latest.rotationId,
                  status: latest.status,
                  at: latest.finishedAt ?? latest.updatedAt,
                },
              }
            : {}),
          ...(next ? { nextWindow: next } : {}),
          ...(entry.dueAt ? { dueAt: entry.dueAt } : {}),
          openAlerts: episodes.length,
        };
      }),
    ),
  );
  return { at: now.toISOString(), rows, credentials: byId };
}

/** The snapshot, rebuilt when older than `maxAgeMs`; concurrent readers share one rebuild. */
export interface FleetCache {
  get(): Promise<FleetSnapshot>;
  /** The next `get` rebuilds (after an action changed something). */
  invalidate(): void;
}

export function fleetCache(
  build: () => Promise<FleetSnapshot>,
  maxAgeMs: number,
  clock: () => number = Date.now,
): FleetCache {
  let current: { snapshot: FleetSnapshot; builtAt: number } | undefined;
  let building: Promise<FleetSnapshot> | undefined;
  return {
    get() {
      if (current && clock() - current.builtAt < maxAgeMs) return Promise.resolve(current.snapshot);
      building ??= build()
        .then((snapshot) => {
          current = { snapshot, builtAt: clock() };
          return snapshot;
        })
        .finally(() => {
          building = undefined;
        });
      return building;
    },
    invalidate() {
      current = undefined;
    },
  };
}
