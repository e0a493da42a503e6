/**
 * The `scan` job (cron scheduler): scan every managed credential and enqueue one rotate job per
 * credential that is due now or expired. The job id per credential deduplicates against runs in flight.
 * What it finds (expired, critical window, overdue, stuck, drift) opens or ends alert episodes.
 *
 * Credentials are judged, alerted on and enqueued a chunk at a time, in an order shuffled per scan. A scan
 * of thousands of credentials takes tens of seconds: rotations start while it goes on (instead of after it,
 * by when many of its readings are stale), and the shuffle keeps scans that keep being cut from always
 * missing the same credentials.
 *
 * A scan killed with its worker is resumed, not restarted: the job's progress holds the shuffle's seed and
 * the next chunk, and BullMQ runs the stalled job again. One scan runs at a time across the workers (a
 * lease on "scan"): a scheduled scan that finds another one running skips, since that one covers the same
 * credentials; a resumed scan that finds the lease still held (its dead worker's, until it runs out) waits
 * and looks again.
 */
import { randomInt } from "node:crypto";
import { DelayedError, type Job } from "bullmq";
import { alertOnScan, type ScanAlertResult } from "../src/alerts/scan-alerts.js";
import { alertOnTasks, type TaskAlertResult } from "../src/alerts/task-alerts.js";
import { isCertrotorError } from "../src/errors.js";
import { holdLock, type KeptLock } from "../src/locks/hold.js";
import type { ScanGauges, WorkerMetrics } from "../src/observability/metrics.js";
import type { Producer } from "../src/queue/producer.js";
import { jobReference, listCredentials, type ResolvedCredential } from "../src/rotation/credentials.js";
import { type ScanEntry, type ScanReport, scan } from "../src/rotation/scan.js";
import type { Runtime } from "../src/runtime.js";
import { mulberry32 } from "../src/util/seeded-random.js";

export interface ScanResult {
  scanned: number;
  enqueued: string[];
  alreadyQueued: string[];
  alerts: ScanAlertResult;
  /** Chunks this run took over from an earlier run of the same job that was cut short. */
  resumedAt?: number;
  /** Set when the scan did not run because another one was running. */
  skipped?: string;
  /** Open human tasks seen, reminded and escalated. */
  tasks?: TaskAlertResult;
}

/** Credentials per chunk: each chunk is read with the scan's bounded concurrency, then acted on. */
const SCAN_CHUNK = 100;

/** How long a resumed scan waits before it looks at the lease again. */
export const SCAN_LOCKED_RETRY_MS = 5_000;

/** What a scan job keeps in its progress to be resumed: the order's seed and the next chunk. */
interface ScanProgress {
  seed: number;
  next: number;
}

function savedProgress(progress: unknown): ScanProgress | undefined {
  const value = progress as Partial<ScanProgress> | null | undefined;
  return Number.isInteger(value?.seed) && Number.isInteger(value?.next)
    ? { seed: value!.seed!, next: value!.next! }
    : undefined;
}

/** Fisher-Yates with a seeded PRNG, so a resumed scan walks the same order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function alertOnChunk(
  runtime: Runtime,
  producer: Producer,
  report: ScanReport,
): Promise<ScanAlertResult> {
  const active = new Map((await runtime.journal.active()).map((r) => [r.credentialId, r] as const));
  const deps = {
    episodes: runtime.episodes,
    sink: producer,
    now: runtime.now,
    alerts: runtime.config.alerts,
    logger: runtime.logger,
  };
  return alertOnScan(deps, report, active);
}

/**
 * One rotate job per due entry, from the credentials the chunk resolved (no lookup by id: for a discovered
 * credential that would list its store once per entry). The job carries where discovery found the
 * credential, so its worker does not list either.
 */
async function enqueueDue(
  runtime: Runtime,
  producer: Producer,
  credentials: readonly ResolvedCredential[],
  entries: ScanEntry[],
  result: ScanResult,
) {
  const byId = new Map(credentials.map((c) => [c.id, c] as const));
  for (const entry of entries) {
    if (entry.decision !== "due-now" && entry.decision !== "expired") continue;
    // every entry is of one of the chunk's credentials; the lookup is only a safety net
    const credential = byId.get(entry.credentialId) ?? (await runtime.credential(entry.credentialId));
    const queued = await producer.enqueueRotate({
      ...jobReference(credential),
      trigger: "schedule",
      attempts: credential.policy.attempts,
      ...(entry.notAfter ? { notAfter: entry.notAfter } : {}),
    });
    (queued.added ? result.enqueued : result.alreadyQueued).push(entry.credentialId);
  }
}

export interface ScanJobOptions {
  /** Judge from the stores alone, as `certrotor scan --no-bank` does (no slots, no drift against the bank). */
  skipBank?: boolean;
}

export function createScanProcessor(
  runtime: Runtime,
  producer: Producer,
  metrics?: WorkerMetrics,
  options: ScanJobOptions = {},
) {
  return async (job: Job, token?: string): Promise<ScanResult> => {
    const resumed = savedProgress(job.progress);
    const result: ScanResult = {
      scanned: 0,
      enqueued: [],
      alreadyQueued: [],
      alerts: { raised: 0, resolved: 0, errors: 0 },
    };
    let held: KeptLock;
    try {
      // renewed while the scan runs; another worker's scan, or a dead one's until its lease runs out, holds it
      held = await holdLock(runtime.locks, "scan", {
        ttlMs: runtime.config.worker.rotationLease,
        owner: `scan:${process.pid}`,
      });
    } catch (error) {
      if (!isCertrotorError(error, "LOCKED")) throw error;
      if (resumed && token) {
        await job.moveToDelayed(Date.now() + SCAN_LOCKED_RETRY_MS, token);
        throw new DelayedError();
      }
      runtime.logger.info("scan skipped: another scan is running");
      return { ...result, skipped: "another scan is running" };
    }
    try {
      const seed = resumed?.seed ?? randomInt(2 ** 31);
      const credentials = shuffled(await listCredentials(runtime.config, runtime.stores), seed);
      const first = resumed ? Math.min(resumed.next, Math.ceil(credentials.length / SCAN_CHUNK)) : 0;
      if (resumed) result.resumedAt = first;
      // only what the gauges need is kept across chunks: a whole entry (subject, messages, drift) is
      // released with its chunk
      const entries: ScanGauges[] = [];
      for (let chunk = first; chunk * SCAN_CHUNK < credentials.length; chunk++) {
        const part: readonly ResolvedCredential[] = credentials.slice(
          chunk * SCAN_CHUNK,
          (chunk + 1) * SCAN_CHUNK,
        );
        const report = await scan({
          ...runtime,
          credentials: part,
          ...(options.skipBank ? { skipBank: true } : {}),
        });
        for (const { credentialId, notAfter, dueAt, boundSlots } of report.entries)
          entries.push({ credentialId, notAfter, dueAt, boundSlots });
        // a scan that stalled past its lease (another one took over) alerts and enqueues nothing more
        await held.lease.check();
        // alert before queueing rotations, so a rotation this scan starts cannot end before its alert is raised
        const alerts = await alertOnChunk(runtime, producer, report);
        result.alerts.raised += alerts.raised;
        result.alerts.resolved += alerts.resolved;
        result.alerts.errors += alerts.errors;
        await enqueueDue(runtime, producer, part, report.entries, result);
        await job.updateProgress({ seed, next: chunk + 1 } satisfies ScanProgress);
      }
      result.scanned = entries.length;
      metrics?.recordScan(entries);
      // human tasks: reminders and escalation as their deadlines near (each once: claimed on the task)
      await held.lease.check();
      result.tasks = await alertOnTasks({
        tasks: runtime.tasks,
        policy: runtime.config.tasks,
        episodes: runtime.episodes,
        sink: producer,
        now: runtime.now,
        logger: runtime.logger,
      });
      runtime.logger.info(
        {
          scanned: result.scanned,
          enqueued: result.enqueued.length,
          ...(resumed ? { resumedAt: first } : {}),
        },
        "scan finished",
      );
      return result;
    } finally {
      await held.release();
    }
  };
}
