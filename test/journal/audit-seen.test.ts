import assert from "node:assert/strict";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AuditSeen } from "../../src/journal/audit-seen.js";
import { type AuditEvent, auditKey } from "../../src/journal/types.js";
import { appendLine } from "../../src/state/files.js";

const event = (rotationId: string, action: AuditEvent["action"], fingerprint: string): AuditEvent => ({
  at: "2026-12-04T00:00:00.000Z",
  credentialId: "cred",
  rotationId,
  action,
  actor: "inline",
  details: { fingerprint },
});

describe("AuditSeen: what this process appended", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "certrotor-audit-seen-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Appends `e` as the file journal does and tells `seen`; returns the event's audit key. */
  const append = async (seen: AuditSeen, file: string, e: AuditEvent): Promise<string> => {
    const line = JSON.stringify(e);
    const key = auditKey(e)!;
    seen.appended(file, (await appendLine(file, line))!, line, e.rotationId, key);
    return key;
  };

  it("learns its own append without reading the file back", async () => {
    const file = join(dir, "own.jsonl");
    const seen = new AuditSeen();
    const first = event("rot_a", "staged", "aa");
    await writeFile(file, `${JSON.stringify(first)}\n`);
    assert.equal(seen.has(file, "rot_a", auditKey(first)!), true);
    // a line of the same length with another fingerprint: had the file been read, it would know "bb"
    const line = JSON.stringify(event("rot_a", "bound", "bb"));
    seen.appended(
      file,
      (await appendLine(file, line))!,
      line,
      "rot_a",
      auditKey(event("rot_a", "bound", "cc")),
    );
    assert.equal(seen.has(file, "rot_a", auditKey(event("rot_a", "bound", "cc"))!), true);
    assert.equal(seen.has(file, "rot_a", auditKey(event("rot_a", "bound", "bb"))!), false);
  });

  it("reads the file when another writer appended since its last read", async () => {
    const file = join(dir, "shared.jsonl");
    const ours = new AuditSeen();
    const theirs = new AuditSeen();
    const start = event("rot_b", "staged", "aa");
    await writeFile(file, `${JSON.stringify(start)}\n`);
    assert.equal(ours.has(file, "rot_b", auditKey(start)!), true);
    const theirKey = await append(theirs, file, event("rot_b", "verified", "aa"));
    const ourKey = await append(ours, file, event("rot_b", "promoted", "aa"));
    assert.equal(ours.has(file, "rot_b", theirKey), true, "the other writer's line is read");
    assert.equal(ours.has(file, "rot_b", ourKey), true, "and so is ours, with it");
    assert.equal(ours.has(file, "rot_b", auditKey(event("rot_b", "bound", "aa"))!), false);
  });

  it("reads a replaced file from its start", async () => {
    const file = join(dir, "replaced.jsonl");
    const seen = new AuditSeen();
    const old = event("rot_c", "staged", "aa");
    await writeFile(file, `${JSON.stringify(old)}\n`);
    assert.equal(seen.has(file, "rot_c", auditKey(old)!), true);
    await rename(file, `${file}.old`); // kept, so the new file cannot reuse its inode
    const fresh = event("rot_c", "verified", "aa");
    await writeFile(file, `${JSON.stringify(fresh)}\n`);
    const key = await append(seen, file, event("rot_c", "promoted", "aa"));
    assert.equal(seen.has(file, "rot_c", auditKey(old)!), false, "the old file's line is forgotten");
    assert.equal(seen.has(file, "rot_c", auditKey(fresh)!), true);
    assert.equal(seen.has(file, "rot_c", key), true);
  });
});
