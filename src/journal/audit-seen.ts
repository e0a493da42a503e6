/**
 * Which (rotation, audit key) pairs a credential's audit file holds, read incrementally: the file only
 * ever grows by whole-line O_APPEND writes, so each call reads the bytes appended since the last one
 * instead of the whole trail (which grows by every event of every rotation of the credential). A file
 * that was replaced, removed or is shorter than what was read is read again from the start.
 * Lines are judged as the full read judges them: the text between two newlines, skipped when it is not
 * JSON (a write torn by a crash); the bytes after the last newline wait for the rest of their line.
 * An append of this process is learnt without reading it back when the file grew by exactly that line
 * since the last read (the audit of each step would otherwise read its predecessor's line again).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { type AppendedAt, errnoOf, stateError } from "../state/files.js";
import { type AuditEvent, auditKey } from "./types.js";

interface Seen {
  ino: number;
  /** Bytes of the file consumed, up to and including the last newline read. */
  offset: number;
  keys: Set<string>;
}

const NEWLINE = 0x0a;
const pairOf = (rotationId: string, key: string): string => `${rotationId}\u0000${key}`;

export class AuditSeen {
  private readonly files = new Map<string, Seen>();

  /** Whether `file` holds an event of `rotationId` with audit key `key`. */
  has(file: string, rotationId: string, key: string): boolean {
    const seen = this.refresh(file);
    return seen?.keys.has(pairOf(rotationId, key)) ?? false;
  }

  /**
   * Records that this process appended `line` (without its newline) to `file`, which then was `at`: when
   * the file is the one last read and it grew by just this line, the line is known without reading it.
   * Otherwise nothing is recorded and the next has() reads what was appended, this line included.
   */
  appended(
    file: string,
    at: AppendedAt,
    line: string,
    rotationId: string | undefined,
    key: string | undefined,
  ): void {
    const seen = this.files.get(file);
    if (!seen || seen.ino !== at.ino || seen.offset + Buffer.byteLength(line) + 1 !== at.size) return;
    if (rotationId && key !== undefined) seen.keys.add(pairOf(rotationId, key));
    seen.offset = at.size;
  }

  private refresh(file: string): Seen | undefined {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch (error) {
      this.files.delete(file);
      if (errnoOf(error) === "ENOENT") return undefined;
      throw stateError("read", file, error);
    }
    try {
      const { ino, size } = fstatSync(fd);
      let seen = this.files.get(file);
      if (!seen || seen.ino !== ino || size < seen.offset) {
        seen = { ino, offset: 0, keys: new Set() };
        this.files.set(file, seen);
      }
      if (size > seen.offset) this.consume(fd, seen, size);
      return seen;
    } catch (error) {
      throw stateError("read", file, error);
    } finally {
      closeSync(fd);
    }
  }

  private consume(fd: number, seen: Seen, size: number): void {
    const bytes = Buffer.alloc(size - seen.offset);
    const read = readSync(fd, bytes, 0, bytes.length, seen.offset);
    const end = bytes.subarray(0, read).lastIndexOf(NEWLINE);
    if (end < 0) return; // no whole line yet
    for (const line of bytes.subarray(0, end).toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      let event: AuditEvent;
      try {
        event = JSON.parse(line) as AuditEvent;
      } catch {
        continue; // torn by a crash mid-write, as the full read skips it
      }
      const key = event && typeof event === "object" ? auditKey(event) : undefined;
      if (key !== undefined && event.rotationId) seen.keys.add(pairOf(event.rotationId, key));
    }
    seen.offset += end + 1;
  }
}
