/**
 * The `scan` job (cron scheduler): scan every managed credential and enqueue one rotate job per
 * credential that is due now or expired. The job id per credential deduplicates against runs in flight.
 * What it finds (expired, critical window, overdue, stuck, drift) opens or ends alert episodes.
 */
import type { Job } from "bullmq";
import { alertOnScan, type ScanAlertResult } from "../src/alerts/scan-alerts.js";
import type { WorkerMetrics } from "../src/observability/metrics.js";
import type { Producer } from "../src/queue/producer.js";
import { scan } from "../src/rotation/scan.js";
import type { Runtime } from "../src/runtime.js";

export interface ScanResult {
  scanned: number;
  enqueued: string[];
  alreadyQueued: string[];
  alerts: ScanAlertResult;
}

export function createScanProcessor(runtime: Runtime, producer: Producer, metrics?: WorkerMetrics) {
  return async (_job: Job): Promise<ScanResult> => {
    const report = await scan(runtime);
    metrics?.recordScan(report.entries);
    // alert before queueing rotations, so a rotation this scan starts cannot end before its alert is raised
    const active = new Map((await runtime.journal.active()).map((r) => [r.credentialId, r] as const));
    const alerts = await alertOnScan(
      {
        episodes: runtime.episodes,
        sink: producer,
        now: runtime.now,
        alerts: runtime.config.alerts,
        logger: runtime.logger,
      },
      report,
      active,
    );
    const result: ScanResult = { scanned: report.entries.length, enqueued: [], alreadyQueued: [], alerts };
    for (const entry of report.entries) {
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
    runtime.logger.info({ scanned: result.scanned, enqueued: result.enqueued.length }, "scan finished");
    return result;
  };
}
