/**
 * The `retire` job (delayed by the grace period) and the `retire-sweep` scheduler job: unbind old certs
 * whose grace period passed. A rotation still waiting for idle consumers is looked at again later.
 */
import type { Job } from "bullmq";
import { raiseAlert } from "../src/alerts/raise.js";
import type { Producer } from "../src/queue/producer.js";
import { retireJobData } from "../src/queue/payloads.js";
import { retireDue, retireOne } from "../src/rotation/retire-due.js";
import type { Runtime } from "../src/runtime.js";

export function createRetireProcessor(runtime: Runtime, producer: Producer) {
  const depsFor = async (id: string) => {
    const credential = await runtime.credential(id);
    return { credential, deps: runtime.depsFor(credential) };
  };
  return async (job: Job): Promise<{ status: string; count?: number }> => {
    if (job.name === "retire-sweep") {
      const results = await retireDue(runtime.journal, runtime.now(), depsFor);
      return { status: "swept", count: results.length };
    }
    const data = retireJobData.parse(job.data);
    const record = await runtime.journal.get(data.rotationId);
    if (record?.status !== "retire-due") return { status: record?.status ?? "unknown" };
    const { credential, deps } = await depsFor(data.credentialId);
    const outcome = await retireOne(deps, credential, record);
    // still "retire-due" (consumers on the old cert): the retire-sweep scheduler looks again
    if (outcome.status === "consumers-on-old-cert") {
      await raiseAlert(
        { episodes: runtime.episodes, sink: producer, now: runtime.now },
        data.credentialId,
        "consumers-on-old-cert",
        {
          rotationId: data.rotationId,
          ...(credential.clientId ? { clientId: credential.clientId } : {}),
          ...(record.oldFingerprint ? { fingerprint: record.oldFingerprint } : {}),
          errorCode: "CONSUMERS_ON_OLD_CERT",
          message: outcome.record.errorMessage ?? "the old certificate is still in use",
          ...(outcome.record.hint ? { hint: outcome.record.hint } : {}),
        },
      );
    }
    return { status: outcome.status };
  };
}
