/**
 * The `scan` job (cron scheduler): scan every managed credential and enqueue one rotate job per
 * credential that is due now or expired. The job id per credential deduplicates against runs in flight.
 */
import type { Job } from "bullmq";
import type { Producer } from "../src/queue/producer.js";
import { scan } from "../src/rotation/scan.js";
import type { Runtime } from "../src/runtime.js";

export interface ScanResult {
  scanned: number;
  enqueued: string[];
  alreadyQueued: string[];
}

export function createScanProcessor(runtime: Runtime, producer: Producer) {
  return async (_job: Job): Promise<ScanResult> => {
    const report = await scan({
      config: runtime.config,
      stores: runtime.stores,
      banks: runtime.banks,
      journal: runtime.journal,
      now: runtime.now,
    });
    const result: ScanResult = { scanned: report.entries.length, enqueued: [], alreadyQueued: [] };
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
