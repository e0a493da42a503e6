/**
 * status: what an operator wants to know about one credential (or all): its current material, the
 * bank's slots, the renewal decision, the last rotations from the journal, and what is scheduled next.
 */
import type { TaskStore } from "../tasks/types.js";
import { type OpenTaskView, openTaskView } from "./scan.js";
import { requireSlots } from "../bank/capabilities.js";
import { X509Certificate } from "node:crypto";
import type { BankClient, BoundCertificate } from "../bank/types.js";
import type { Config } from "../config/schema.js";
import { toCertrotorError } from "../errors.js";
import type { AuditEvent, Journal, RotationRecord } from "../journal/types.js";
import type { SecretStore } from "../stores/types.js";
import type { ResolvedCredential } from "./credentials.js";
import { decideRenewal, type RenewalDecision } from "./policy.js";
import { nextRuns, nextWindowOpening } from "./window.js";

export interface CredentialStatus {
  credentialId: string;
  current?: { fingerprint: string; subject: string; notAfter: string; version: string; rotationId?: string };
  pending?: { rotationId: string; fingerprint: string };
  slots?: Array<
    Omit<BoundCertificate, "notAfter" | "boundAt" | "lastUsedAt"> & {
      notAfter: string;
      boundAt: string;
      lastUsedAt?: string;
    }
  >;
  decision?: Pick<RenewalDecision, "status" | "reason" | "message"> & { renewAt: string; startAt: string };
  nextWindowOpening?: string;
  rotations: RotationRecord[];
  history?: AuditEvent[];
  /** Open human tasks of the credential. */
  tasks?: OpenTaskView[];
  error?: { code: string; message: string };
}

export interface StatusReport {
  at: string;
  nextScans: string[];
  credentials: CredentialStatus[];
}

export interface StatusDeps {
  config: Config;
  stores: ReadonlyMap<string, SecretStore>;
  banks: ReadonlyMap<string, BankClient>;
  journal: Journal;
  now: () => Date;
  tasks?: Pick<TaskStore, "list">;
}

export async function credentialStatus(
  deps: StatusDeps,
  credential: ResolvedCredential,
  options: { history?: boolean; limit?: number } = {},
): Promise<CredentialStatus> {
  const now = deps.now();
  const out: CredentialStatus = {
    credentialId: credential.id,
    rotations: await deps.journal.history(credential.id, options.limit ?? 5),
    ...(options.history ? { history: await deps.journal.auditTrail(credential.id, 100) } : {}),
  };
  const tasks = (await deps.tasks?.list({ status: "open", credentialId: credential.id })) ?? [];
  if (tasks.length > 0) out.tasks = tasks.map(openTaskView);
  try {
    const store = deps.stores.get(credential.store)!;
    const current = await store.readCurrent(credential.ref);
    const cert = new X509Certificate(current.material.certPem);
    const notAfter = new Date(cert.validTo);
    out.current = {
      fingerprint: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
      subject: cert.subject.replaceAll("\n", ", "),
      notAfter: notAfter.toISOString(),
      version: current.version,
      ...(current.material.rotationId ? { rotationId: current.material.rotationId } : {}),
    };
    const pending = await store.readPending(credential.ref);
    if (pending) out.pending = { rotationId: pending.rotationId, fingerprint: pending.material.fingerprint };
    const decision = decideRenewal({
      credentialId: credential.id,
      notBefore: new Date(cert.validFrom),
      notAfter,
      policy: credential.policy,
      now,
      scheduled: true,
    });
    out.decision = {
      status: decision.status,
      reason: decision.reason,
      message: decision.message,
      renewAt: decision.renewAt.toISOString(),
      startAt: decision.startAt.toISOString(),
    };
    if (credential.policy.window) {
      const opening = nextWindowOpening(credential.policy.window, now, notAfter);
      if (opening) out.nextWindowOpening = opening.toISOString();
    }
    const bank = deps.banks.get(credential.bank)!;
    // a portal bank, or one trusting the CA, has no slot API to list
    const slots = bank.slots
      ? await requireSlots(bank).listSlots(current.material.clientId || credential.clientId)
      : [];
    out.slots = slots.map((s) => ({
      id: s.id,
      fingerprint: s.fingerprint,
      subject: s.subject,
      notAfter: s.notAfter.toISOString(),
      boundAt: s.boundAt.toISOString(),
      ...(s.lastUsedAt ? { lastUsedAt: s.lastUsedAt.toISOString() } : {}),
    }));
  } catch (thrown) {
    const error = toCertrotorError(thrown);
    out.error = { code: error.code, message: error.message };
  }
  return out;
}

export function nextScans(config: Config, now: Date, n = 3): string[] {
  return nextRuns(config.schedules.scan, config.schedules.timezone, now, n).map((d) => d.toISOString());
}
