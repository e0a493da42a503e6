/**
 * The end-of-run check of every credential, by looking at the world (store, bank) and at the journal:
 * - invariants 1–3 (`invariantViolations`: the current cert is bound and obtains a token, ≤ 2 bound,
 *   every bound cert's key retrievable);
 * - rotated: current material written by a rotation, a new cert, exactly one cert bound (the old one was
 *   retired: grace period 0), no pending material left, the journal's last rotation succeeded with it;
 * - invariant 4 twice: from the audit trail (each "unbound" of an old cert follows the "promoted" that
 *   replaced it) and from the bank's own record of unbinds (a cert that was ever current was unbound only
 *   after a promotion away from it had been recorded);
 * - what a worker woken from a pause past its lease must never do (`integrity`): issue a second certificate
 *   for one rotation (in the audit trail, and at the bank for credentials on the `bank` issuer: a CSR signed
 *   for a rotation after it staged its material or after it finished), record an audit event twice, or
 *   change a rotation record after it finished (compared with the record as first seen finished).
 */
import { isDeepStrictEqual } from "node:util";
import { requireSlots } from "../../src/bank/capabilities.js";
import pLimit from "p-limit";
import type { AuditEvent, RotationRecord } from "../../src/journal/types.js";
import type { Runtime } from "../../src/runtime.js";
import { duplicateAuditEvents, secondCertificates, stagingTime } from "../../test/fixtures/audit.js";
import { invariantViolations } from "../../test/fixtures/invariants.js";
import type { BankSign, BankUnbind } from "./bank-watch.js";
import type { SoakCredential } from "./world.js";

/** Findings of the checks a stale worker could fail (each also listed in `violations`). */
export interface Integrity {
  /** A second certificate issued (or staged, bound, promoted) for one rotation. */
  issuedTwice: string[];
  /** An audit event of a rotation recorded more than once. */
  duplicateAudit: string[];
  /** A rotation record that changed after it was seen finished. */
  changedAfterFinish: string[];
}

/** What the run saw besides the final state: the bank's unbinds and signatures, records seen finished. */
export interface RunEvidence {
  unbinds: readonly BankUnbind[];
  signs: readonly BankSign[];
  /** Each finished record as first seen during the run, by rotation id. */
  finished: ReadonlyMap<string, RotationRecord>;
}

export interface CredentialVerdict {
  id: string;
  store: string;
  rotated: boolean;
  violations: string[];
  integrity: Integrity;
  /** Certificates the bank signed for this credential's rotations. */
  signs: number;
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

/** The bank signed a certificate for a rotation after it staged its material, or after it finished. */
function bankSecondCertificates(
  trail: readonly AuditEvent[],
  records: readonly RotationRecord[],
  signs: readonly BankSign[],
): string[] {
  const out: string[] = [];
  for (const sign of signs) {
    const at = new Date(sign.atMs).toISOString();
    const stagedAt = stagingTime(trail.filter((e) => e.rotationId === sign.rotationId));
    if (stagedAt !== undefined && sign.atMs > stagedAt)
      out.push(
        `bank: signed a certificate for rotation ${sign.rotationId} at ${at}, after it had staged one`,
      );
    const finishedAt = records.find((r) => r.rotationId === sign.rotationId)?.finishedAt;
    if (finishedAt && sign.atMs > Date.parse(finishedAt))
      out.push(`bank: signed a certificate for rotation ${sign.rotationId} at ${at}, after it finished`);
  }
  return out;
}

/** Finished records of this credential that are not what they were when first seen finished. */
async function changedAfterFinish(
  runtime: Runtime,
  credentialId: string,
  finished: ReadonlyMap<string, RotationRecord>,
): Promise<string[]> {
  const out: string[] = [];
  for (const first of finished.values()) {
    if (first.credentialId !== credentialId) continue;
    const now = await runtime.journal.get(first.rotationId);
    if (now === null || isDeepStrictEqual(now, first)) continue; // pruned from the history, or unchanged
    const fields = [...new Set([...Object.keys(first), ...Object.keys(now)])].filter(
      (k) => !isDeepStrictEqual(first[k as keyof RotationRecord], now[k as keyof RotationRecord]),
    );
    out.push(
      `journal: rotation ${first.rotationId} changed after it finished ${first.status} (${fields.join(", ")}; now ${now.status})`,
    );
  }
  return out;
}

async function verifyOne(
  runtime: Runtime,
  credential: SoakCredential,
  evidence: { unbinds: readonly BankUnbind[]; signs: readonly BankSign[]; finished: RunEvidence["finished"] },
): Promise<CredentialVerdict> {
  const { unbinds } = evidence;
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
  const integrity: Integrity = {
    issuedTwice: [...secondCertificates(trail), ...bankSecondCertificates(trail, records, evidence.signs)],
    duplicateAudit: duplicateAuditEvents(trail).map((d) => `audit: recorded twice: ${d}`),
    changedAfterFinish: await changedAfterFinish(runtime, credential.id, evidence.finished),
  };
  violations.push(...integrity.issuedTwice, ...integrity.duplicateAudit, ...integrity.changedAfterFinish);
  return {
    id: credential.id,
    store: credential.store,
    rotated,
    violations,
    integrity,
    signs: evidence.signs.length,
    rotations: promotions.length,
    records,
  };
}

const noFindings = (): Integrity => ({ issuedTwice: [], duplicateAudit: [], changedAfterFinish: [] });

/**
 * Checks every credential (faults must be off: the token call has to succeed). A certificate the bank
 * signed for a rotation no credential's journal knows is a finding of its own (`unattributedSigns`):
 * every rotation begins its record before it issues.
 */
export async function verifyAll(
  runtime: Runtime,
  credentials: readonly SoakCredential[],
  evidence: RunEvidence,
): Promise<{ verdicts: CredentialVerdict[]; unattributedSigns: string[] }> {
  const byClient = new Map<string, BankUnbind[]>();
  for (const unbind of evidence.unbinds) {
    const list = byClient.get(unbind.clientId) ?? [];
    list.push(unbind);
    byClient.set(unbind.clientId, list);
  }
  const signsOf = new Map<string, BankSign[]>();
  for (const sign of evidence.signs)
    signsOf.set(sign.rotationId, [...(signsOf.get(sign.rotationId) ?? []), sign]);
  const limit = pLimit(16);
  const verdicts = await Promise.all(
    credentials.map((credential) =>
      limit(async (): Promise<CredentialVerdict> => {
        try {
          const rotationIds = (await runtime.journal.history(credential.id, 50)).map((r) => r.rotationId);
          return await verifyOne(runtime, credential, {
            unbinds: byClient.get(credential.clientId) ?? [],
            signs: rotationIds.flatMap((id) => signsOf.get(id) ?? []),
            finished: evidence.finished,
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return {
            id: credential.id,
            store: credential.store,
            rotated: false,
            violations: [`check failed: ${message}`],
            integrity: noFindings(),
            signs: 0,
            rotations: 0,
            records: [],
          };
        }
      }),
    ),
  );
  const known = new Set(verdicts.flatMap((v) => v.records.map((r) => r.rotationId)));
  const unattributedSigns = [...signsOf.keys()]
    .filter((id) => !known.has(id))
    .map(
      (id) =>
        `bank: signed ${signsOf.get(id)!.length} certificate(s) for ${id}, a rotation no journal record knows`,
    );
  return { verdicts, unattributedSigns };
}
