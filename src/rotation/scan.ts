/**
 * scan: read every managed credential's current material, ask the bank what is bound, decide what is
 * due, and find drift between store, bank and journal. Pages through stores and reads with bounded
 * concurrency; parses with the native X509Certificate (3× faster than a JS parser on a big fleet).
 */
import type { HumanTask, TaskStore } from "../tasks/types.js";
import type { X509Certificate } from "node:crypto";
import { requireSlots } from "../bank/capabilities.js";
import pLimit from "p-limit";
import type { BankClient } from "../bank/types.js";
import type { Config } from "../config/schema.js";
import { checkClientMaterial } from "../crypto/client-material.js";
import { toCertrotorError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { Journal, RotationRecord } from "../journal/types.js";
import { readCurrentAndPending, type SecretStore } from "../stores/types.js";
import { type ResolvedCredential, listCredentials } from "./credentials.js";
import { decideRenewal } from "./policy.js";

export type ScanDecision = "ok" | "due" | "due-now" | "expired" | "broken";
export type DriftKind = "orphan" | "unregistered" | "leftover-pending" | "stuck";

export interface DriftItem {
  kind: DriftKind;
  message: string;
  fingerprint?: string;
}

export interface ScanEntry {
  credentialId: string;
  clientId: string;
  store: string;
  path: string;
  subject?: string;
  fingerprint?: string;
  notAfter?: string;
  daysLeft?: number;
  boundSlots?: number;
  decision: ScanDecision;
  /** Renewal time (due at T), or when a waiting rotation may start. */
  dueAt?: string;
  reason: string;
  message: string;
  drift: DriftItem[];
  /** Open human tasks of the credential (a portal bank waiting for a person). */
  tasks?: OpenTaskView[];
}

/** An open human task as scan and status show it. */
export type OpenTaskView = Pick<HumanTask, "id" | "kind" | "rotationId" | "createdAt" | "deadline">;

export function openTaskView(task: HumanTask): OpenTaskView {
  const { id, kind, rotationId, createdAt, deadline } = task;
  return { id, kind, rotationId, createdAt, deadline };
}

export interface ScanReport {
  at: string;
  entries: ScanEntry[];
  counts: Record<ScanDecision, number> & { drift: number; openTasks: number };
  /** 0 all fine, 1 something due (or drift to look at), 2 something broken or expired. */
  exitCode: 0 | 1 | 2;
}

export interface ScanDeps {
  config: Config;
  stores: ReadonlyMap<string, SecretStore>;
  banks: ReadonlyMap<string, BankClient>;
  journal: Journal;
  now: () => Date;
  /** Where the open human tasks shown beside each credential are (absent: none shown). */
  tasks?: Pick<TaskStore, "list">;
  concurrency?: number;
  /** Skip the bank (slots, drift against the bank): a store-only scan. */
  skipBank?: boolean;
  /** Scan only these (default: every managed credential, configured and discovered). */
  credentials?: readonly ResolvedCredential[];
  /** Where a broken entry's cause is logged (an INTERNAL one with its cause: a bug to look into). */
  logger?: Logger;
}

function sha256Hex(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(":", "").toLowerCase();
}

function stuckDrift(record: RotationRecord | undefined, now: Date, stuckAfter: number): DriftItem[] {
  if (record?.status !== "running") return [];
  const since = now.getTime() - Date.parse(record.stepStartedAt);
  if (since < stuckAfter) return [];
  return [
    {
      kind: "stuck",
      message: `rotation ${record.rotationId} has been in step "${record.step}" for ${Math.round(since / 60_000)} min`,
    },
  ];
}

/** Margin for clocks of other worker hosts when comparing a journal time with the start of the reads. */
const CLOCK_MARGIN_MS = 5_000;

/**
 * The store, the bank and the journal are read one after the other, not atomically: a rotation that binds,
 * promotes or unbinds between those reads makes a correct credential look drifted (the old current read
 * before it was unbound shows as unregistered; a cert bound after the journal was read, as an orphan).
 * Every such change happens while the rotation's record is running, so drift seen on a credential whose
 * latest rotation is running, or changed since the reads began, is dropped; the next scan looks again.
 */
async function withoutRotationRaces(
  deps: ScanDeps,
  credentialId: string,
  drift: DriftItem[],
  readFrom: Date,
): Promise<DriftItem[]> {
  if (!drift.some((d) => d.kind !== "stuck")) return drift;
  const latest = await deps.journal.latest(credentialId);
  const touched =
    latest !== null &&
    (latest.status === "running" || Date.parse(latest.updatedAt) >= readFrom.getTime() - CLOCK_MARGIN_MS);
  return touched ? drift.filter((d) => d.kind === "stuck") : drift;
}

/**
 * Whether the scan must read the credential's pending material. The listing may have said there was none
 * (ListPage.pending, a hint as of the listing: at 10,000 credentials, skipping the read halves the scan's
 * requests). Pending material is written only by a rotation, whose journal record is running while it
 * stages, binds and promotes; so a credential with a running rotation is always read (`active` is read
 * after the listing), and drift of one whose rotation moved since the listing is dropped (readFrom). What
 * the hint can miss is a pending left by a rotation that started and failed after the listing: the next
 * scan reports it. The saga never relies on the scan for pending: plan, promote and rollback read it.
 */
function pendingMayExist(credential: ResolvedCredential, running: RotationRecord | undefined): boolean {
  return credential.listed?.pending !== false || running !== undefined;
}

/** A broken entry in the log: its code and safe message; an unexpected failure also with its cause. */
function reportBroken(
  logger: Logger | undefined,
  credentialId: string,
  error: ReturnType<typeof toCertrotorError>,
  thrown: unknown,
): void {
  if (!logger) return;
  const line = { credentialId, code: error.code, reason: error.message };
  if (error.code !== "INTERNAL") {
    logger.warn(line, "scan: credential is broken");
    return;
  }
  const cause = thrown instanceof Error ? thrown : new Error(String(thrown));
  logger.error(
    { ...line, err: { type: cause.name, message: cause.message, stack: cause.stack } },
    "scan: unexpected failure reading a credential",
  );
}

async function scanOne(
  deps: ScanDeps,
  credential: ResolvedCredential,
  active: ReadonlyMap<string, RotationRecord>,
): Promise<ScanEntry> {
  const now = deps.now();
  const base = {
    credentialId: credential.id,
    clientId: credential.clientId,
    store: credential.store,
    path: credential.ref.path,
  };
  const running = active.get(credential.id);
  const drift = stuckDrift(running, now, deps.config.alerts.stuckAfter);
  try {
    const store = deps.stores.get(credential.store)!;
    // pending where it may exist, in the same read where the store keeps both together (the file store)
    const { current, pending } = pendingMayExist(credential, running)
      ? await readCurrentAndPending(store, credential.ref)
      : { current: await store.readCurrent(credential.ref), pending: null };
    // broken material is reported with its own code (PEM_MALFORMED, PFX_BAD_PASSPHRASE, KEY_MISMATCH, ...)
    const cert = checkClientMaterial(current.material, `credential "${credential.id}" current material`);
    const fingerprint = sha256Hex(cert);
    const notAfter = new Date(cert.validTo);
    const clientId = current.material.clientId || credential.clientId;
    const decision = decideRenewal({
      credentialId: credential.id,
      notBefore: new Date(cert.validFrom),
      notAfter,
      policy: credential.policy,
      now,
      scheduled: true,
    });
    if (pending && running?.rotationId !== pending.rotationId) {
      drift.push({
        kind: "leftover-pending",
        message: `pending material of rotation ${pending.rotationId} with no rotation running`,
        fingerprint: pending.material.fingerprint,
      });
    }
    let boundSlots: number | undefined;
    const bank = deps.banks.get(credential.bank)!;
    // a bank without a slot API (portal, trust-the-CA) shows no bindings to compare with
    if (!deps.skipBank && bank.slots) {
      const slots = await requireSlots(bank).listSlots(clientId);
      boundSlots = slots.length;
      const known = new Set([
        fingerprint,
        pending?.material.fingerprint,
        running?.oldFingerprint,
        running?.newFingerprint,
      ]);
      for (const slot of slots) {
        if (!known.has(slot.fingerprint)) {
          drift.push({
            kind: "orphan",
            message: "a certificate bound at the bank is not held by the store",
            fingerprint: slot.fingerprint,
          });
        }
      }
      if (!slots.some((slot) => slot.fingerprint === fingerprint)) {
        drift.push({
          kind: "unregistered",
          message: "the current certificate in the store is not bound at the bank",
          fingerprint,
        });
      }
    }
    // with the listing's word for pending, the reads began at the listing: a rotation since then may have
    // staged a pending this scan did not read, so its drift is left to the next scan
    const readFrom =
      credential.listed && credential.listed.at < now.getTime() ? new Date(credential.listed.at) : now;
    const settled = await withoutRotationRaces(deps, credential.id, drift, readFrom);
    drift.splice(0, drift.length, ...settled);
    const broken = drift.some((d) => d.kind === "unregistered" || d.kind === "stuck");
    return {
      ...base,
      clientId,
      subject: cert.subject.replaceAll("\n", ", "),
      fingerprint,
      notAfter: notAfter.toISOString(),
      daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
      ...(boundSlots !== undefined ? { boundSlots } : {}),
      decision: broken && decision.status !== "expired" ? "broken" : decision.status,
      dueAt: (decision.status === "due" ? decision.startAt : decision.renewAt).toISOString(),
      reason: broken ? "Drift" : decision.reason,
      message: broken ? drift.map((d) => d.message).join("; ") : decision.message,
      drift,
    };
  } catch (thrown) {
    const error = toCertrotorError(thrown);
    reportBroken(deps.logger, credential.id, error, thrown);
    return { ...base, decision: "broken", reason: error.code, message: error.message, drift };
  }
}

export async function scan(deps: ScanDeps): Promise<ScanReport> {
  const credentials = deps.credentials ?? (await listCredentials(deps.config, deps.stores));
  const active = new Map((await deps.journal.active()).map((r) => [r.credentialId, r] as const));
  const limit = pLimit(deps.concurrency ?? 16);
  const entries = await Promise.all(credentials.map((c) => limit(() => scanOne(deps, c, active))));
  const open = new Map<string, OpenTaskView[]>();
  for (const task of (await deps.tasks?.list({ status: "open" })) ?? []) {
    open.set(task.credentialId, [...(open.get(task.credentialId) ?? []), openTaskView(task)]);
  }
  const counts = { ok: 0, due: 0, "due-now": 0, expired: 0, broken: 0, drift: 0, openTasks: 0 };
  for (const entry of entries) {
    counts[entry.decision]++;
    if (entry.drift.length > 0) counts.drift++;
    const tasks = open.get(entry.credentialId);
    if (tasks) {
      entry.tasks = tasks;
      counts.openTasks += tasks.length;
    }
  }
  const exitCode =
    counts.broken + counts.expired > 0 ? 2 : counts.due + counts["due-now"] + counts.drift > 0 ? 1 : 0;
  return { at: deps.now().toISOString(), entries, counts, exitCode };
}
