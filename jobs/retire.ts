/**
 * The `retire` job (delayed by the grace period) and the `retire-sweep` scheduler job: unbind old certs
 * whose grace period passed. A rotation still waiting for idle consumers is looked at again later.
 * A retire job carries where discovery found its credential; the sweep, working from journal records,
 * lists the discovery stores at most once per run.
 */
import { DelayedError, type Job } from "bullmq";
import { alertConsumersOnOldCert } from "../src/alerts/rotation-alerts.js";
import type { Producer } from "../src/queue/producer.js";
import { retireJobData } from "../src/queue/payloads.js";
import { type CredentialLookup, credentialLookup } from "../src/rotation/credentials.js";
import { retireDue, retireOne } from "../src/rotation/retire-due.js";
import type { Runtime } from "../src/runtime.js";

export function createRetireProcessor(runtime: Runtime, producer: Producer) {
  const depsFor = (lookup: CredentialLookup) => async (id: string) => {
    const credential = await lookup(id);
    return { credential, deps: runtime.depsFor(credential) };
  };
  const alertDeps = { episodes: runtime.episodes, sink: producer, now: runtime.now, logger: runtime.logger };
  return async (job: Job, token?: string): Promise<{ status: string; count?: number }> => {
    if (job.name === "retire-sweep") {
      const lookup = credentialLookup(runtime.config, runtime.stores);
      const results = await retireDue(runtime.journal, runtime.now(), depsFor(lookup));
      for (const item of results) {
        // still "retire-due" (consumers on the old cert): the next sweep looks again; ops hear of it once
        if ("outcome" in item && item.outcome.status === "consumers-on-old-cert")
          await alertConsumersOnOldCert(alertDeps, await lookup(item.credentialId), item.outcome.record);
      }
      return { status: "swept", count: results.length };
    }
    const data = retireJobData.parse(job.data);
    const record = await runtime.journal.get(data.rotationId);
    if (record?.status !== "retire-due") return { status: record?.status ?? "unknown" };
    const credential = await runtime.credential(data.credentialId, data.discovery);
    const outcome = await retireOne(runtime.depsFor(credential), credential, record);
    if (outcome.status === "consumers-on-old-cert")
      await alertConsumersOnOldCert(alertDeps, credential, outcome.record);
    // waiting on an unbind task (a portal bank): look again after the task's backoff, not only at the
    // next sweep, without spending an attempt
    if (outcome.status === "retire-due" && outcome.task?.status === "open" && token) {
      await job.moveToDelayed(
        Date.now() + Math.max(0, outcome.retireDueAt.getTime() - runtime.now().getTime()),
        token,
      );
      throw new DelayedError();
    }
    return { status: outcome.status };
  };
}
