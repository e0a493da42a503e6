/**
 * The `retire` job (delayed by the grace period) and the `retire-sweep` scheduler job: unbind old certs
 * whose grace period passed. A rotation still waiting for idle consumers is looked at again later.
 */
import type { Job } from "bullmq";
import { alertConsumersOnOldCert } from "../src/alerts/rotation-alerts.js";
import type { Producer } from "../src/queue/producer.js";
import { retireJobData } from "../src/queue/payloads.js";
import { retireDue, retireOne } from "../src/rotation/retire-due.js";
import type { Runtime } from "../src/runtime.js";

export function createRetireProcessor(runtime: Runtime, producer: Producer) {
  const depsFor = async (id: string) => {
    const credential = await runtime.credential(id);
    return { credential, deps: runtime.depsFor(credential) };
  };
  const alertDeps = { episodes: runtime.episodes, sink: producer, now: runtime.now, logger: runtime.logger };
  return async (job: Job): Promise<{ status: string; count?: number }> => {
    if (job.name === "retire-sweep") {
      const results = await retireDue(runtime.journal, runtime.now(), depsFor);
      for (const item of results) {
        // still "retire-due" (consumers on the old cert): the next sweep looks again; ops hear of it once
        if ("outcome" in item && item.outcome.status === "consumers-on-old-cert")
          await alertConsumersOnOldCert(
            alertDeps,
            await runtime.credential(item.credentialId),
            item.outcome.record,
          );
      }
      return { status: "swept", count: results.length };
    }
    const data = retireJobData.parse(job.data);
    const record = await runtime.journal.get(data.rotationId);
    if (record?.status !== "retire-due") return { status: record?.status ?? "unknown" };
    const { credential, deps } = await depsFor(data.credentialId);
    const outcome = await retireOne(deps, credential, record);
    if (outcome.status === "consumers-on-old-cert")
      await alertConsumersOnOldCert(alertDeps, credential, outcome.record);
    return { status: outcome.status };
  };
}
