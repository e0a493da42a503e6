/**
 * Human tasks under the state dir (`<stateDir>/tasks`), for single-host use without Redis, as the file
 * journal. One file per task, `<id>.jsonl`: each line a whole version of the task. Opening is an exclusive
 * create; an update appends the next version (rev + 1) with one O_APPEND write and reads back: the first
 * line of a rev wins, so of two concurrent writers one sees its line lose and retries (compare-and-set
 * without a lock). A fenced write asks the file lock manager whether the lease still holds just before
 * the append (journal/file.ts does the same).
 */
import { randomUUID } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { CertrotorError } from "../errors.js";
import type { Fence } from "../journal/types.js";
import type { LeaseState } from "../locks/lease.js";
import {
  appendLine,
  createExclusive,
  ensureDir,
  errnoOf,
  readText,
  safeName,
  stateError,
} from "../state/files.js";
import { applyTaskPatch, newestTaskFirst, newTask, unknownTask } from "./record.js";
import type { HumanTask, TaskStore } from "./types.js";

export interface FileTaskOptions {
  leaseState?: (fence: Fence) => Promise<LeaseState>;
}

const CAS_TRIES = 20;

/** The winning version: the first line of the highest rev (later lines of that rev lost a race). */
function fold(text: string | undefined): HumanTask | null {
  let best: HumanTask | null = null;
  for (const line of (text ?? "").split("\n")) {
    if (!line.trim()) continue;
    try {
      const { _w, ...version } = JSON.parse(line) as HumanTask & { _w?: string };
      if (!best || version.rev > best.rev) best = version;
    } catch {
      // a torn last line of a crashed writer: the versions before it stand
    }
  }
  return best;
}

/** One version as a line; `_w` makes two writers' lines of the same content differ, so one wins. */
function versionLine(task: HumanTask): string {
  return JSON.stringify({ ...task, _w: randomUUID() });
}

function firstOfRev(text: string, rev: number): string | undefined {
  return text.split("\n").find((line) => {
    try {
      return (JSON.parse(line) as HumanTask).rev === rev;
    } catch {
      return false;
    }
  });
}

export function createFileTasks(dir: string, options: FileTaskOptions = {}): TaskStore {
  const file = (id: string): string => join(dir, `${safeName(id)}.jsonl`);
  let ready: Promise<void> | undefined;
  const init = (): Promise<void> => {
    ready ??= ensureDir(dir);
    return ready;
  };
  const checkFence = async (fence: Fence | undefined, what: string): Promise<void> => {
    if (!fence) return;
    if (!options.leaseState) throw new CertrotorError("INTERNAL", "tasks: a fenced write needs leaseState");
    if ((await options.leaseState(fence)) === "held") return;
    throw new CertrotorError(
      "LOCK_LOST",
      `tasks: refused ${what}: lock "${fence.key}" is no longer held under token ${fence.token}`,
      { details: { key: fence.key, token: fence.token } },
    );
  };
  const get = async (id: string): Promise<HumanTask | null> => fold(await readText(file(id)));

  return {
    async open(input, now, fence) {
      await init();
      const task = newTask(input, now);
      await checkFence(fence, `to open task "${task.id}"`);
      if (await createExclusive(file(task.id), `${JSON.stringify(task)}\n`)) return { task, created: true };
      return { task: (await get(task.id)) ?? task, created: false };
    },
    get,
    async list(filter = {}) {
      await init();
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if (errnoOf(error) === "ENOENT") return [];
        throw stateError("list", dir, error);
      }
      const tasks: HumanTask[] = [];
      for (const name of names.filter((n) => n.endsWith(".jsonl"))) {
        const task = fold(await readText(join(dir, name)));
        if (!task) continue;
        if (filter.status && task.status !== filter.status) continue;
        if (filter.credentialId && task.credentialId !== filter.credentialId) continue;
        if (filter.rotationId && task.rotationId !== filter.rotationId) continue;
        tasks.push(task);
      }
      return tasks.sort(newestTaskFirst);
    },
    async update(id, patch, now, fence) {
      for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
        const current = await get(id);
        if (!current) throw unknownTask(id);
        const next = applyTaskPatch(current, patch, now);
        await checkFence(fence, `to update task "${id}"`);
        const line = versionLine(next);
        if (!(await appendLine(file(id), line, false))) throw unknownTask(id);
        const text = (await readText(file(id))) ?? "";
        if (firstOfRev(text, next.rev) === line) return next;
      }
      throw new CertrotorError("INTERNAL", `tasks: task "${id}" kept changing during update`, {
        retryable: true,
      });
    },
    async claim(id, rev, patch, now) {
      const current = await get(id);
      if (!current) throw unknownTask(id);
      if (current.rev !== rev) return null;
      const next = applyTaskPatch(current, patch, now);
      const line = versionLine(next);
      if (!(await appendLine(file(id), line, false))) throw unknownTask(id);
      return firstOfRev((await readText(file(id))) ?? "", next.rev) === line ? next : null;
    },
    close: async () => undefined,
  };
}
