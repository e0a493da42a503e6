/**
 * bench/soak.json: what was run (options, machine), what happened (rotations, retries, rollbacks,
 * alerts, kills, pauses, Redis restart, injected faults, time) and what was found (violations, per
 * credential, and the integrity findings a stale worker would cause: a certificate issued twice for one
 * rotation, an audit event recorded twice, a record changed after it finished).
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import type { Queue } from "bullmq";
import { percentile } from "../lib.js";
import type { InjectedFaults } from "./faults.js";
import type { QueueCounters } from "./progress.js";
import type { FinalExit, WorkerExit } from "./supervisor.js";
import type { CredentialVerdict } from "./verify.js";

export interface RunFacts {
  options: Record<string, unknown>;
  converged: boolean;
  /** Why the run stopped early, if it did. */
  aborted?: string;
  timings: { setupMs: number; runMs: number; verifyMs: number; totalMs: number };
  chaos: {
    kills: number;
    /** SIGSTOP … SIGCONT pauses past the leases. */
    pauses: number;
    /** Lost-lease lines the workers logged (woken workers stopping). */
    lockLostLogged: number;
    workerStarts: number;
    /** Kill turns skipped because the worker due was still starting. */
    skippedKills: number;
    unexpectedExits: readonly WorkerExit[];
    /** SOAK_REDIS: standalone or cluster. */
    redisMode?: string;
    redisRestarts: number;
    /** Master failovers (cluster). */
    redisFailovers?: number;
    redisDowntimeMs: number;
    /** Exit codes of the workers' graceful stop at the end (0 = clean). */
    finalExits: readonly FinalExit[];
  };
  queue: QueueCounters;
  faults: InjectedFaults;
  bankViolations: Array<{ clientId: string; violation: string }>;
  /** Certificates the bank signed for a rotation no journal record knows. */
  unattributedSigns: readonly string[];
}

export interface AlertsRaised {
  total: number;
  byKind: Record<string, number>;
  /** The first few of each kind: which credential, which code, what it said. */
  samples: Array<{ kind: string; credentialId: string; errorCode?: string; message: string }>;
}

/** Alerts raised: notify jobs, by kind (whatever state their delivery is in). */
export async function alertsRaised(notify: Queue): Promise<AlertsRaised> {
  const jobs = await notify.getJobs(["waiting", "active", "delayed", "completed", "failed", "prioritized"]);
  const byKind: Record<string, number> = {};
  const samples: AlertsRaised["samples"] = [];
  for (const job of jobs) {
    const data = (job?.data ?? {}) as Record<string, unknown>;
    const kind = String(data.kind ?? "unknown");
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (byKind[kind] > 3) continue;
    samples.push({
      kind,
      credentialId: String(data.credentialId ?? ""),
      ...(typeof data.errorCode === "string" ? { errorCode: data.errorCode } : {}),
      message: String(data.message ?? "").slice(0, 300),
    });
  }
  return { total: jobs.length, byKind, samples };
}

function rotationFigures(verdicts: readonly CredentialVerdict[], runMs: number) {
  const records = verdicts.flatMap((v) => v.records);
  const onBank = verdicts.filter((v) => v.signs > 0);
  const durations = records
    .filter((r) => r.status === "succeeded" && r.finishedAt)
    .map((r) => Date.parse(r.finishedAt!) - Date.parse(r.startedAt));
  const promoted = verdicts.reduce((n, v) => n + v.rotations, 0);
  return {
    promoted,
    perSecond: Number((promoted / Math.max(1, runMs / 1000)).toFixed(2)),
    journalRecords: records.length,
    byStatus: records.reduce<Record<string, number>>((acc, r) => {
      acc[r.status] = (acc[r.status] ?? 0) + 1;
      return acc;
    }, {}),
    /** Saga attempts beyond the first, summed over rotations (retries after faults, kills, Redis). */
    retriedAttempts: records.reduce((n, r) => n + Math.max(0, r.attempts - 1), 0),
    rotationsWithRetries: records.filter((r) => r.attempts > 1).length,
    maxAttempts: records.reduce((n, r) => Math.max(n, r.attempts), 0),
    rollbacks: records.filter((r) => r.status === "rolled-back").length,
    /**
     * Certificates the bank signed (credentials on the `bank` issuer), and credentials that needed more than
     * one: an attempt cut short between issue and stage (a kill, a pause, a store fault) is followed by one
     * that issues anew.
     */
    bankSigned: {
      credentials: onBank.length,
      certificates: onBank.reduce((n, v) => n + v.signs, 0),
      credentialsSignedMoreThanRotated: onBank.filter((v) => v.signs > v.rotations).length,
    },
    durationMs: durations.length
      ? { p50: percentile(durations, 50), p95: percentile(durations, 95), max: Math.max(...durations) }
      : null,
    /** The longest rotations, to read their journal and worker logs. */
    slowest: records
      .filter((r) => r.finishedAt)
      .map((r) => ({
        credentialId: r.credentialId,
        rotationId: r.rotationId,
        attempts: r.attempts,
        ms: Date.parse(r.finishedAt!) - Date.parse(r.startedAt),
      }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5),
  };
}

export function buildReport(facts: RunFacts, verdicts: readonly CredentialVerdict[], alerts: AlertsRaised) {
  const byStore: Record<string, { total: number; rotated: number }> = {};
  for (const v of verdicts) {
    const entry = byStore[v.store] ?? { total: 0, rotated: 0 };
    byStore[v.store] = entry;
    entry.total++;
    if (v.rotated) entry.rotated++;
  }
  const violations = verdicts
    .filter((v) => v.violations.length > 0)
    .map((v) => ({ id: v.id, violations: v.violations }));
  const rotated = verdicts.filter((v) => v.rotated).length;
  const integrity = integrityFigures(verdicts, facts.unattributedSigns);
  const passed =
    facts.converged &&
    rotated === verdicts.length &&
    violations.length === 0 &&
    facts.bankViolations.length === 0 &&
    integrity.issuedTwice + integrity.duplicateAuditEvents + integrity.changedAfterFinish === 0 &&
    integrity.unattributedSigns.length === 0 &&
    facts.chaos.unexpectedExits.length === 0 &&
    // the graceful stop at the end: every worker finished or released its jobs and exited 0
    facts.chaos.finalExits.every((exit) => exit.code === 0);
  return {
    result: passed ? "passed" : "failed",
    at: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown" },
    options: facts.options,
    converged: facts.converged,
    ...(facts.aborted ? { aborted: facts.aborted } : {}),
    timings: facts.timings,
    credentials: { total: verdicts.length, rotated, notRotated: verdicts.length - rotated, byStore },
    rotations: rotationFigures(verdicts, facts.timings.runMs),
    jobs: facts.queue,
    alerts,
    chaos: {
      ...facts.chaos,
      unexpectedExits: facts.chaos.unexpectedExits.length,
      exits: facts.chaos.unexpectedExits,
    },
    faults: facts.faults,
    integrity,
    violations: { credentials: violations.length, bank: facts.bankViolations, list: violations },
  };
}

/** Counts of each integrity finding over every credential (the findings are in the violations list). */
function integrityFigures(verdicts: readonly CredentialVerdict[], unattributedSigns: readonly string[]) {
  const sum = (pick: (v: CredentialVerdict) => readonly string[]): number =>
    verdicts.reduce((n, v) => n + pick(v).length, 0);
  return {
    issuedTwice: sum((v) => v.integrity.issuedTwice),
    duplicateAuditEvents: sum((v) => v.integrity.duplicateAudit),
    changedAfterFinish: sum((v) => v.integrity.changedAfterFinish),
    unattributedSigns: [...unattributedSigns],
  };
}

export type SoakReport = ReturnType<typeof buildReport>;

export function writeReport(path: string, report: SoakReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
