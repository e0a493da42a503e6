/**
 * What a scan alerts on, per credential: expired, within the critical window, renewal overdue, a rotation
 * stuck in one step, drift between store and bank (orphaned or unregistered certs). Each condition opens
 * its episode (one alert); a condition the scan looked at and no longer sees is resolved. A condition the
 * scan could not look at (unreadable material, no bank call) is left as it is.
 */
import pLimit from "p-limit";
import type { AlertsConfig } from "../config/schema.js";
import { toCertrotorError } from "../errors.js";
import type { RotationRecord } from "../journal/types.js";
import type { Logger } from "../observability/logger.js";
import type { ScanEntry, ScanReport } from "../rotation/scan.js";
import type { EpisodeKind } from "./episodes.js";
import { type AlertFacts, type RaiseDeps, raiseAlert, resolveAlerts } from "./raise.js";

export const SCAN_KINDS = [
  "expired",
  "critical-window",
  "rotation-overdue",
  "rotation-stuck",
  "drift",
] as const satisfies readonly EpisodeKind[];
export type ScanKind = (typeof SCAN_KINDS)[number];

export interface ScanConditions {
  found: Array<{ kind: ScanKind; facts: AlertFacts }>;
  /** The entry's certificate facts, for resolves. */
  base: Omit<AlertFacts, "message">;
  /** Kinds the scan could judge for this entry (only these may be resolved). */
  evaluated: ReadonlySet<ScanKind>;
}

const HINTS = {
  expired:
    "rotate now (certrotor rotate <credential>); until then the bank refuses it (401 Invalid Client Certificate)",
  window:
    "see why no rotation succeeded yet (certrotor status <credential>, open rotation-failed alerts); rotate on demand with certrotor rotate <credential>",
  overdue:
    "check that a worker runs and its scan schedule fires, and whether rotations of this credential fail (certrotor status <credential>)",
  stuck:
    "a worker may have stopped mid-step: check the worker logs; the saga resumes when its job is retried or on certrotor rotate <credential>",
  drift:
    "orphan: a cert bound at the bank is not in the store: find who bound it and unbind it if unused (it holds one of the 2 slots); unregistered: the current cert is not bound, so consumers get 401 Invalid Client Certificate: bind it or rotate",
} as const;

const days = (ms: number): string => `${Math.max(0, Math.floor(ms / 86_400_000))} days`;

export function scanConditions(
  entry: ScanEntry,
  now: Date,
  alerts: Pick<AlertsConfig, "criticalWindow" | "overdueAfter">,
  running?: RotationRecord,
): ScanConditions {
  const base: Omit<AlertFacts, "message"> = {
    ...(entry.clientId ? { clientId: entry.clientId } : {}),
    ...(entry.subject ? { subject: entry.subject } : {}),
    ...(entry.fingerprint ? { fingerprint: entry.fingerprint } : {}),
    ...(entry.notAfter ? { notAfter: entry.notAfter } : {}),
  };
  const hint = (text: string): string => text.replaceAll("<credential>", entry.credentialId);
  const found: ScanConditions["found"] = [];
  const evaluated = new Set<ScanKind>(["rotation-stuck"]);
  const stuck = entry.drift.filter((d) => d.kind === "stuck");
  if (stuck.length > 0) {
    const rotation = running ? { rotationId: running.rotationId, step: running.step } : {};
    const message = stuck.map((d) => d.message).join("; ");
    found.push({ kind: "rotation-stuck", facts: { ...base, ...rotation, message, hint: hint(HINTS.stuck) } });
  }
  if (!entry.notAfter) return { found, evaluated, base }; // material unreadable: nothing else can be judged
  for (const kind of ["expired", "critical-window", "rotation-overdue"] as const) evaluated.add(kind);
  const left = Date.parse(entry.notAfter) - now.getTime();
  if (left <= 0) {
    const message = `the current certificate expired at ${entry.notAfter}`;
    found.push({ kind: "expired", facts: { ...base, message, hint: hint(HINTS.expired) } });
  } else if (left < alerts.criticalWindow) {
    const message = `the current certificate expires at ${entry.notAfter} (${days(left)} left) and is not rotated yet`;
    found.push({ kind: "critical-window", facts: { ...base, message, hint: hint(HINTS.window) } });
  }
  if (entry.dueAt && now.getTime() - Date.parse(entry.dueAt) > alerts.overdueAfter) {
    const message = `renewal was due at ${entry.dueAt} and no rotation has succeeded since`;
    found.push({ kind: "rotation-overdue", facts: { ...base, message, hint: hint(HINTS.overdue) } });
  }
  if (entry.boundSlots !== undefined) {
    evaluated.add("drift");
    const drift = entry.drift.filter((d) => d.kind === "orphan" || d.kind === "unregistered");
    if (drift.length > 0) {
      const message = drift.map((d) => `${d.kind}: ${d.message} (${d.fingerprint ?? "?"})`).join("; ");
      found.push({ kind: "drift", facts: { ...base, message, hint: hint(HINTS.drift) } });
    }
  }
  return { found, evaluated, base };
}

export interface ScanAlertResult {
  raised: number;
  resolved: number;
  /** Credentials whose alerts could not be raised or resolved (logged). */
  errors: number;
}

/** Raises and resolves the scan's episodes for every entry; one credential's failure does not stop the rest. */
export async function alertOnScan(
  deps: RaiseDeps & { alerts: Pick<AlertsConfig, "criticalWindow" | "overdueAfter">; logger: Logger },
  report: ScanReport,
  active: ReadonlyMap<string, RotationRecord> = new Map(),
): Promise<ScanAlertResult> {
  const result: ScanAlertResult = { raised: 0, resolved: 0, errors: 0 };
  const now = deps.now();
  // credentials are independent: a few in flight hide the Redis round trips (10,000 in ~0.2 s, not ~1.5 s)
  const limit = pLimit(16);
  const one = async (entry: ScanEntry): Promise<void> => {
    try {
      const { found, evaluated, base } = scanConditions(
        entry,
        now,
        deps.alerts,
        active.get(entry.credentialId),
      );
      for (const { kind, facts } of found)
        if (await raiseAlert(deps, entry.credentialId, kind, facts)) result.raised++;
      const present = new Set<string>(found.map((f) => f.kind));
      const cleared = (kind: EpisodeKind): boolean => evaluated.has(kind as ScanKind) && !present.has(kind);
      const resolved = await resolveAlerts(
        deps,
        entry.credentialId,
        "no longer seen by the scan",
        base,
        cleared,
      );
      result.resolved += resolved.length;
    } catch (thrown) {
      const error = toCertrotorError(thrown);
      result.errors++;
      deps.logger.error(
        { credentialId: entry.credentialId, err: { code: error.code, message: error.message } },
        "scan alerts failed for a credential",
      );
    }
  };
  await Promise.all(report.entries.map((entry) => limit(() => one(entry))));
  return result;
}
