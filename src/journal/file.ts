/**
 * The journal as JSON-lines files under the state dir, for `--inline` and `demo` runs without Redis.
 *
 * Layout under `dir` (the runtime passes `<stateDir>/journal`; names encoded by safeName):
 * - `rotations/<rotationId>.jsonl`  line 1 `{"record":{...}}` (created exclusively: complete or absent),
 *                                    then one `{"set":{...},"unset":[...]}` line per update;
 * - `credentials/<credentialId>.jsonl`  one `{"rotationId","startedAt"}` line per begin (the history index);
 * - `audit/<credentialId>.jsonl`    one AuditEvent per line.
 *
 * Several processes on one host may share it without a lock: every write is either an exclusive create
 * or a single O_APPEND write of one line, and a record is the fold of its lines, so concurrent updates
 * of different fields both survive. A line torn by a crash is skipped when read.
 * Fenced writes ask the file lock manager (locks/file.ts) whether the lease is still held just before
 * the write: one host, so the gap between that check and the single append is a few microseconds, where
 * Redis closes it inside one script. Audit events of a rotation are appended once per (action,
 * fingerprint): the credential's audit file is checked before the append (the rotation's lock keeps its
 * other writers out), reading only what was appended since the last check (audit-seen.ts).
 * History is bounded: when a credential has more than `maxHistory` rotations, the oldest finished ones
 * are deleted and the credential's index is rewritten without them (the begin that prunes holds the
 * credential's lock, the index's only writer), so neither the index nor a begin's work grows with a
 * credential's age. active()/retireDue() read every rotation file, which the bound keeps to
 * credentials × maxHistory.
 */
import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { CertrotorError } from "../errors.js";
import {
  appendLine,
  createExclusive,
  ensureDir,
  errnoOf,
  readText,
  removeFile,
  replaceAtomic,
  safeName,
  stateError,
} from "../state/files.js";
import { AuditSeen } from "./audit-seen.js";
import { assertNoSecrets } from "./guard.js";
import {
  applyChange,
  assertValidRecord,
  compare,
  isActiveStatus,
  materializeFenced,
  newestFirst,
  type RecordChange,
} from "./record.js";
import type { LeaseState } from "../locks/lease.js";
import {
  type AuditEvent,
  auditKey,
  type Fence,
  type Journal,
  type RotationPatch,
  type RotationRecord,
} from "./types.js";

export interface FileJournalOptions {
  now?: () => Date;
  /** Whether a fence's lease is still held (the file lock manager's `leaseState`); fenced writes need it. */
  leaseState?: (fence: Fence) => Promise<LeaseState>;
  /** Rotations kept per credential (finished ones beyond this are deleted). Default 50. */
  maxHistory?: number;
}

function parseLines(text: string | undefined): unknown[] {
  const out: unknown[] = [];
  for (const line of (text ?? "").split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line torn by a crash mid-write: the write it belonged to never completed
    }
  }
  return out;
}

function fold(lines: unknown[]): RotationRecord | null {
  const [first, ...changes] = lines as ({ record?: RotationRecord } & RecordChange)[];
  if (!first?.record) return null;
  let record = first.record;
  for (const change of changes) {
    if (change && typeof change.set === "object" && Array.isArray(change.unset))
      record = applyChange(record, change);
  }
  return record;
}

/** One line of a credential's index: a rotation it began. */
interface IndexEntry {
  rotationId: string;
  startedAt: string;
}

export function createFileJournal(dir: string, options: FileJournalOptions = {}): Journal {
  const now = options.now ?? (() => new Date());
  const maxHistory = options.maxHistory ?? 50;
  const dirs = {
    rotations: join(dir, "rotations"),
    credentials: join(dir, "credentials"),
    audit: join(dir, "audit"),
  };
  const rotationFile = (id: string): string => join(dirs.rotations, `${safeName(id)}.jsonl`);
  const indexFile = (credentialId: string): string =>
    join(dirs.credentials, `${safeName(credentialId)}.jsonl`);
  const auditFile = (credentialId: string): string => join(dirs.audit, `${safeName(credentialId)}.jsonl`);
  const auditSeen = new AuditSeen();
  let ready: Promise<void> | undefined;
  const init = (): Promise<void> => {
    ready ??= Promise.all(Object.values(dirs).map(ensureDir)).then(() => undefined);
    return ready;
  };

  const checkFence = async (fence: Fence | undefined, what: string): Promise<void> => {
    if (!fence) return;
    if (!options.leaseState) throw new CertrotorError("INTERNAL", "journal: a fenced write needs leaseState");
    if ((await options.leaseState(fence)) === "held") return;
    throw new CertrotorError(
      "LOCK_LOST",
      `journal: refused ${what}: lock "${fence.key}" is no longer held under token ${fence.token}`,
      { details: { key: fence.key, token: fence.token } },
    );
  };

  const get = async (rotationId: string): Promise<RotationRecord | null> =>
    fold(parseLines(await readText(rotationFile(rotationId))));

  /** The record and the size of its file, for an update that will remember what it appended. */
  async function readSized(rotationId: string): Promise<{ record: RotationRecord | null; bytes: number }> {
    const text = await readText(rotationFile(rotationId));
    return { record: fold(parseLines(text)), bytes: text === undefined ? 0 : Buffer.byteLength(text) };
  }

  /**
   * The record a fenced writer of this journal left, while the file still has the size it left: records
   * are only ever appended to (or removed once finished), so any other writer's line would have changed
   * the size. Spares the lock holder a read and a parse of the whole record at every step.
   */
  const written = new Map<string, { bytes: number; record: RotationRecord }>();
  const WRITTEN_MAX = 256;

  function writtenRecord(rotationId: string): { bytes: number; record: RotationRecord } | undefined {
    const entry = written.get(rotationId);
    if (!entry) return undefined;
    let size: number | undefined;
    try {
      size = statSync(rotationFile(rotationId)).size;
    } catch {
      size = undefined; // gone or unreadable: readSized() reports it
    }
    if (size === entry.bytes) return entry;
    written.delete(rotationId);
    return undefined;
  }

  function remember(rotationId: string, bytes: number, record: RotationRecord): void {
    written.delete(rotationId);
    if (isActiveStatus(record.status)) written.set(rotationId, { bytes, record });
    if (written.size > WRITTEN_MAX) written.delete(written.keys().next().value!);
  }

  const indexEntries = async (credentialId: string): Promise<IndexEntry[]> =>
    parseLines(await readText(indexFile(credentialId))) as IndexEntry[];

  /** Rotation ids of index entries, newest begin first, without repeats. */
  const newestFirstIds = (entries: IndexEntry[]): string[] => [
    ...new Set(entries.map((e) => e.rotationId).reverse()),
  ];

  /** Rotation ids of a credential from its index, newest begin first, without repeats. */
  async function indexed(credentialId: string): Promise<string[]> {
    return newestFirstIds(await indexEntries(credentialId));
  }

  async function prune(credentialId: string): Promise<void> {
    const lines = await indexEntries(credentialId);
    const ids = newestFirstIds(lines);
    if (ids.length <= maxHistory) return;
    const kept = new Set(ids.slice(0, maxHistory));
    for (const id of ids.slice(maxHistory)) {
      const record = await get(id);
      if (record && isActiveStatus(record.status)) kept.add(id);
      else if (record) await removeFile(rotationFile(id));
    }
    // one line per kept rotation, in the order appended; not fsynced, as the appends are not
    let text = "";
    const listed = new Set<string>();
    for (const entry of lines) {
      if (!kept.has(entry.rotationId) || listed.has(entry.rotationId)) continue;
      listed.add(entry.rotationId);
      text += `${JSON.stringify(entry)}\n`;
    }
    await replaceAtomic(indexFile(credentialId), text, { durable: false });
  }

  async function begin(record: RotationRecord, fence?: Fence): Promise<void> {
    assertValidRecord(record);
    assertNoSecrets(record, `rotation "${record.rotationId}"`);
    await init();
    await checkFence(fence, `to begin rotation "${record.rotationId}"`);
    const created = await createExclusive(rotationFile(record.rotationId), `${JSON.stringify({ record })}\n`);
    if (!created) {
      const existing = await get(record.rotationId);
      if (existing && existing.credentialId !== record.credentialId) {
        throw new CertrotorError(
          "INTERNAL",
          `journal: rotation "${record.rotationId}" belongs to another credential`,
        );
      }
      // a begin repeated after a crash: make sure the index line made it too
      if ((await indexed(record.credentialId)).includes(record.rotationId)) return;
    }
    const entry = { rotationId: record.rotationId, startedAt: record.startedAt };
    await appendLine(indexFile(record.credentialId), JSON.stringify(entry));
    await prune(record.credentialId);
  }

  async function update(rotationId: string, patch: RotationPatch, fence?: Fence): Promise<RotationRecord> {
    const notFound = (): never => {
      throw new CertrotorError("NOT_FOUND", `journal: no rotation "${rotationId}"`, {
        details: { rotationId },
      });
    };
    const known = fence ? writtenRecord(rotationId) : undefined;
    const { record: found, bytes } = known ?? (await readSized(rotationId));
    const current = found ?? notFound();
    const what = `to update rotation "${rotationId}"`;
    const change = await materializeFenced(current, patch, now(), () => checkFence(fence, what));
    assertValidRecord(applyChange(current, change));
    assertNoSecrets(change.set, `rotation "${rotationId}"`);
    await checkFence(fence, what);
    const line = JSON.stringify(change);
    if (!(await appendLine(rotationFile(rotationId), line, false))) notFound();
    // A fenced write comes from the lock holder, the record's only writer: what it read plus its change
    // is the record. Unfenced writers (an operator's command beside a rotation) read back what all wrote.
    if (!fence) return (await get(rotationId)) ?? notFound();
    const next = applyChange(current, change);
    // the size this append left, were it the only one; another writer's line makes writtenRecord miss
    remember(rotationId, bytes + Buffer.byteLength(line) + 1, next);
    return next;
  }

  async function history(credentialId: string, limit = 20): Promise<RotationRecord[]> {
    const out: RotationRecord[] = [];
    for (const id of await indexed(credentialId)) {
      if (out.length >= limit) break;
      const record = await get(id);
      if (record) out.push(record);
    }
    return out.sort(newestFirst);
  }

  async function all(): Promise<RotationRecord[]> {
    let names: string[];
    try {
      names = await readdir(dirs.rotations);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return [];
      throw stateError("list", dirs.rotations, error);
    }
    const files = names.filter((n) => n.endsWith(".jsonl")).map((n) => join(dirs.rotations, n));
    const records = await Promise.all(files.map(async (file) => fold(parseLines(await readText(file)))));
    return records.filter((r): r is RotationRecord => r !== null);
  }

  async function active(): Promise<RotationRecord[]> {
    return (await all())
      .filter((r) => isActiveStatus(r.status))
      .sort((a, b) => compare(a.startedAt, b.startedAt));
  }

  async function retireDue(at: Date): Promise<RotationRecord[]> {
    const due = (await active()).filter(
      (r) =>
        r.status === "retire-due" && r.retireDueAt !== undefined && Date.parse(r.retireDueAt) <= at.getTime(),
    );
    return due.sort((a, b) => compare(a.retireDueAt!, b.retireDueAt!));
  }

  async function audit(event: AuditEvent, fence?: Fence): Promise<boolean> {
    assertNoSecrets(event, `audit event "${event.action}" of credential "${event.credentialId}"`);
    await init();
    const file = auditFile(event.credentialId);
    const key = auditKey(event);
    if (key !== undefined && auditSeen.has(file, event.rotationId!, key)) {
      // already recorded: still refused to a holder whose lease is gone, as the Redis journal does
      await checkFence(fence, `audit event "${event.action}"`);
      return false;
    }
    await checkFence(fence, `audit event "${event.action}"`);
    const line = JSON.stringify(event);
    auditSeen.appended(file, (await appendLine(file, line))!, line, event.rotationId, key);
    return true;
  }

  async function auditTrail(credentialId: string, limit = 100): Promise<AuditEvent[]> {
    const events = parseLines(await readText(auditFile(credentialId))) as AuditEvent[];
    return events.reverse().slice(0, limit);
  }

  return {
    begin,
    update,
    get,
    latest: async (credentialId) => (await history(credentialId, 1))[0] ?? null,
    history,
    active,
    retireDue,
    audit,
    auditTrail,
    close: async () => undefined,
  };
}
