/**
 * The `scan` job (cron scheduler): scan every managed credential and enqueue one rotate job per
 * credential that is due now or expired. The job id per credential deduplicates against runs in flight.
 * What it finds (expired, critical window, overdue, stuck, drift) opens or ends alert episodes.
 *
 * Credentials are judged, alerted on and enqueued a chunk at a time, in an order shuffled per scan. A scan
 * of thousands of credentials takes tens of seconds: rotations start while it goes on (instead of after it,
 * by when many of its readings are stale), and a scan cut short by its worker's death keeps what it did;
 * the shuffle keeps scans that keep being cut from always missing the same credentials.
 */
import { randomInt } from "node:crypto";
import type { Job } from "bullmq";
import { alertOnScan, type ScanAlertResult } from "../src/alerts/scan-alerts.js";
import type { WorkerMetrics } from "../src/observability/metrics.js";
import type { Producer } from "../src/queue/producer.js";
import { listCredentials, type ResolvedCredential } from "../src/rotation/credentials.js";
import { type ScanEntry, type ScanReport, scan } from "../src/rotation/scan.js";
import type { Runtime } from "../src/runtime.js";

export interface ScanResult {
  scanned: number;
  enqueued: string[];
  alreadyQueued: string[];
  alerts: ScanAlertResult;
}

/** Credentials per chunk: each chunk is read with the scan's bounded concurrency, then acted on. */
export const SCAN_CHUNK = 100;

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
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

async function enqueueDue(runtime: Runtime, producer: Producer, entries: ScanEntry[], result: ScanResult) {
  for (const entry of entries) {
    if (entry.decision !== "due-now" && entry.decision !== "expired") continue;
    const credential = await runtime.credential(entry.credentialId);
    const queued = await producer.enqueueRotate({
      credentialId: entry.credentialId,
      trigger: "schedule",
      attempts: credential.policy.attempts,
      ...(entry.notAfter ? { notAfter: entry.notAfter } : {}),
    });
    (queued.added ? result.enqueued : result.alreadyQueued).push(entry.credentialId);
  }
}

export function createScanProcessor(runtime: Runtime, producer: Producer, metrics?: WorkerMetrics) {
  return async (_job: Job): Promise<ScanResult> => {
    const credentials = shuffled(await listCredentials(runtime.config, runtime.stores));
    const entries: ScanEntry[] = [];
    const result: ScanResult = {
      scanned: 0,
      enqueued: [],
      alreadyQueued: [],
      alerts: { raised: 0, resolved: 0, errors: 0 },
    };
    for (let start = 0; start < credentials.length; start += SCAN_CHUNK) {
      const chunk: readonly ResolvedCredential[] = credentials.slice(start, start + SCAN_CHUNK);
      const report = await scan({ ...runtime, credentials: chunk });
      entries.push(...report.entries);
      // alert before queueing rotations, so a rotation this scan starts cannot end before its alert is raised
      const alerts = await alertOnChunk(runtime, producer, report);
      result.alerts.raised += alerts.raised;
      result.alerts.resolved += alerts.resolved;
      result.alerts.errors += alerts.errors;
      await enqueueDue(runtime, producer, report.entries, result);
    }
    result.scanned = entries.length;
    metrics?.recordScan(entries);
    runtime.logger.info({ scanned: result.scanned, enqueued: result.enqueued.length }, "scan finished");
    return result;
  };
}
