/**
 * The end-of-run check of every credential, by looking at the world (store, bank) and at the journal:
 * - invariants 1–3 (`invariantViolations`: the current cert is bound and obtains a token, ≤ 2 bound,
 *   every bound cert's key retrievable);
 * - rotated: current material written by a rotation, a new cert, exactly one cert bound (the old one was
 *   retired: grace period 0), no pending material left, the journal's last rotation succeeded with it;
 * - invariant 4 twice: from the audit trail (each "unbound" of an old cert follows the "promoted" that
 *   replaced it) and from the bank's own record of unbinds (a cert that was ever current was unbound only
 *   after a promotion away from it had been recorded).
 */
import { requireSlots } from "../../src/bank/capabilities.js";
import pLimit from "p-limit";
import type { AuditEvent, RotationRecord } from "../../src/journal/types.js";
import type { Runtime } from "../../src/runtime.js";
import { invariantViolations } from "../../test/fixtures/invariants.js";
import type { BankUnbind } from "./bank-watch.js";
import type { SoakCredential } from "./world.js";

export interface CredentialVerdict {
  id: string;
  store: string;
  rotated: boolean;
  violations: string[];
  /** Rotations promoted (audit "promoted" events). */
  rotations: number;
  /** Journal records, by status. */
  records: RotationRecord[];
}

interface Promotion {
  rotationId: string;
  atMs: number;
  fingerprint: string;
  previous: string;
}

function promotionsOf(trail: AuditEvent[]): Promotion[] {
  return trail
    .filter((e) => e.action === "promoted")
    .map((e) => ({
      rotationId: e.rotationId ?? "",
      atMs: Date.parse(e.at),
      fingerprint: String(e.details?.fingerprint ?? ""),
      previous: String(e.details?.previous ?? ""),
    }));
}

/** Invariant 4 from the audit trail: every retire-unbind follows the promotion of its rotation. */
function auditOrderViolations(trail: AuditEvent[], promotions: Promotion[]): string[] {
  const out: string[] = [];
  for (const event of trail) {
    // register's unbinds of stale own certs carry a reason; a retire's unbind of the old cert does not
    if (event.action !== "unbound" || event.details?.reason !== undefined) continue;
    const fingerprint = String(event.details?.fingerprint ?? "");
    const promotion = promotions.find((p) => p.rotationId === event.rotationId);
    if (!promotion)
      out.push(
        `4: rotation ${event.rotationId} unbound ${fingerprint.slice(0, 12)} with no "promoted" recorded`,
      );
    else if (promotion.previous !== fingerprint)
      out.push(
        `4: rotation ${event.rotationId} unbound ${fingerprint.slice(0, 12)}, not the cert it replaced`,
      );
    else if (promotion.atMs > Date.parse(event.at))
      out.push(`4: rotation ${event.rotationId} unbound ${fingerprint.slice(0, 12)} before promoting`);
  }
  return out;
}

/** Invariant 4 from the bank: a cert that was ever current is unbound only after a promotion away from it. */
function bankOrderViolations(
  credential: SoakCredential,
  unbinds: readonly BankUnbind[],
  promotions: Promotion[],
): string[] {
  const everCurrent = new Set([credential.originalFingerprint, ...promotions.map((p) => p.fingerprint)]);
  const out: string[] = [];
  for (const unbind of unbinds) {
    if (!everCurrent.has(unbind.fingerprint)) continue; // a rolled-back or stale cert, never current
    const away = promotions.find((p) => p.previous === unbind.fingerprint && p.atMs <= unbind.atMs);
    if (!away)
      out.push(
        `4 (bank): ${unbind.fingerprint.slice(0, 12)} unbound at ${new Date(unbind.atMs).toISOString()} before any promotion away from it`,
      );
  }
  return out;
}

async function verifyOne(
  runtime: Runtime,
  credential: SoakCredential,
  unbinds: readonly BankUnbind[],
): Promise<CredentialVerdict> {
  const resolved = await runtime.credential(credential.id);
  const { store, bank, journal } = runtime.depsFor(resolved);
  const ref = resolved.ref;
  const violations = await invariantViolations({ store, bank, ref, clientId: credential.clientId });
  const current = (await store.readCurrent(ref)).material;
  const rotated = current.rotationId !== undefined && current.fingerprint !== credential.originalFingerprint;
  if (!rotated) violations.push("not rotated: the current material is the seeded one");
  const slots = await requireSlots(bank).listSlots(credential.clientId);
  if (slots.length !== 1) violations.push(`old cert not retired: ${slots.length} certificates bound`);
  const pending = await store.readPending(ref);
  if (pending) violations.push(`pending material of rotation ${pending.rotationId} left behind`);

  const records = await journal.history(credential.id, 50);
  const last = records.find((r) => r.rotationId === current.rotationId);
  if (rotated && last?.status !== "succeeded")
    violations.push(
      `journal: rotation ${current.rotationId} is "${last?.status ?? "missing"}", not succeeded`,
    );
  for (const record of records) {
    if (record.status === "running" || record.status === "retire-due")
      violations.push(
        `journal: rotation ${record.rotationId} still "${record.status}" at step ${record.step}`,
      );
  }
  const trail = (await journal.auditTrail(credential.id, 1_000)).reverse();
  const promotions = promotionsOf(trail);
  violations.push(...auditOrderViolations(trail, promotions));
  violations.push(...bankOrderViolations(credential, unbinds, promotions));
  return {
    id: credential.id,
    store: credential.store,
    rotated,
    violations,
    rotations: promotions.length,
    records,
  };
}

/** Checks every credential (faults must be off: the token call has to succeed). */
export async function verifyAll(
  runtime: Runtime,
  credentials: readonly SoakCredential[],
  unbinds: readonly BankUnbind[],
): Promise<CredentialVerdict[]> {
  const byClient = new Map<string, BankUnbind[]>();
  for (const unbind of unbinds) {
    const list = byClient.get(unbind.clientId) ?? [];
    list.push(unbind);
    byClient.set(unbind.clientId, list);
  }
  const limit = pLimit(16);
  return Promise.all(
    credentials.map((credential) =>
      limit(async () => {
        try {
          return await verifyOne(runtime, credential, byClient.get(credential.clientId) ?? []);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return {
            id: credential.id,
            store: credential.store,
            rotated: false,
            violations: [`check failed: ${message}`],
            rotations: 0,
            records: [],
          };
        }
      }),
    ),
  );
}
