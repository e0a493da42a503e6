/**
 * What a rotation left in the world, read from outside the process that did it: the bank's own request log
 * (what reached the bank that changes something), the store, the journal record and audit trail of the
 * rotation, and the alerts queued. Two views taken before and after something are compared whole.
 */
import type { Queue } from "bullmq";
import type { AuditEvent, RotationRecord } from "../../src/journal/types.js";
import type { Runtime } from "../../src/runtime.js";
import type { SandboxHandle } from "../../src/sandbox/server.js";

export interface WorldView {
  /** Every request that changes something at the bank (all but GETs), as "METHOD path status". */
  bankWrites: string[];
  /** CSRs signed by the bank (the `bank` issuer), certificates bound and unbound, token calls. */
  counts: { signs: number; binds: number; unbinds: number; tokens: number };
  store: { version: string; fingerprint: string; pending: string | null };
  record: RotationRecord | null;
  trail: AuditEvent[];
  /** Notify jobs in any state: every alert raised. */
  alerts: number;
}

const BIND = /^\/admin\/v1\/credentials\/[^/]+\/certificates$/;
const UNBIND = /^\/admin\/v1\/credentials\/[^/]+\/certificates\/[^/]+$/;

export async function viewOf(input: {
  runtime: Runtime;
  sandbox: SandboxHandle;
  credentialId: string;
  rotationId: string;
  notify: Queue;
}): Promise<WorldView> {
  const { runtime, sandbox } = input;
  const writes = sandbox.logs.filter((entry) => entry.method !== "GET" && entry.method !== "");
  const count = (test: (entry: (typeof writes)[number]) => boolean): number => writes.filter(test).length;
  const credential = await runtime.credential(input.credentialId);
  const store = runtime.stores.get(credential.store)!;
  const current = await store.readCurrent(credential.ref);
  const pending = await store.readPending(credential.ref);
  const jobs = await input.notify.getJobCounts(
    "waiting",
    "active",
    "delayed",
    "completed",
    "failed",
    "prioritized",
  );
  return {
    bankWrites: writes.map((entry) => `${entry.method} ${entry.path} ${entry.status}`),
    counts: {
      signs: count((e) => e.method === "POST" && e.path === "/admin/v1/certificate-requests"),
      binds: count((e) => e.method === "POST" && BIND.test(e.path)),
      unbinds: count((e) => e.method === "DELETE" && UNBIND.test(e.path)),
      tokens: count((e) => e.endpoint === "token"),
    },
    store: {
      version: current.version,
      fingerprint: current.material.fingerprint,
      pending: pending?.material.fingerprint ?? null,
    },
    record: await runtime.journal.get(input.rotationId),
    trail: await runtime.journal.auditTrail(input.credentialId, 1_000),
    alerts: Object.values(jobs).reduce((sum, n) => sum + n, 0),
  };
}
