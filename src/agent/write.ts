/**
 * Replacing the agent's files so that no reader ever sees half of one: each file is written to a temp
 * file in the same directory (same file system, so rename(2) is atomic), fsynced, renamed over its name,
 * and the directory is fsynced once the set is in place, so the renames survive a power cut. A process
 * killed at any point leaves each file either old or new and complete; at worst a temp file
 * `.<name>.<random>.certrotor-agent.tmp`, which the next agent start removes (one agent per directory).
 */
import { randomBytes } from "node:crypto";
import { open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDir } from "../util/durable.js";
import { pathNotWritable } from "../util/dirs.js";
import type { AgentFile } from "./files.js";

export const TEMP_SUFFIX = ".certrotor-agent.tmp";

export interface WriteHooks {
  /**
   * Test-only: runs after a file's temp copy is durable and before it is renamed into place (the crash
   * test pauses the writer here and kills it). Never set in production.
   */
  beforeRename?: (name: string, tempFile: string) => Promise<void>;
}

async function replaceOne(dir: string, file: AgentFile, hooks: WriteHooks): Promise<void> {
  const target = join(dir, file.name);
  const temp = join(dir, `.${file.name}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`);
  let renamed = false;
  try {
    // created with its final mode (0600 for secrets), so the key never sits in a wider file
    const handle = await open(temp, "wx", file.mode);
    try {
      await handle.chmod(file.mode); // the umask may have narrowed it: 0644 must stay readable
      await handle.writeFile(file.content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await hooks.beforeRename?.(file.name, temp);
    await rename(temp, target);
    renamed = true;
  } catch (error) {
    throw pathNotWritable("--out", target, error);
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
}

/** Puts every file of `files` in place, in order, each atomically; then makes the renames durable. */
export async function writeFiles(
  dir: string,
  files: readonly AgentFile[],
  hooks: WriteHooks = {},
): Promise<void> {
  for (const file of files) await replaceOne(dir, file, hooks);
  try {
    await fsyncDir(dir);
  } catch (error) {
    throw pathNotWritable("--out", dir, error);
  }
}

/** Removes the temp files a killed agent left in `dir`; returns how many. */
export async function removeStaleTemps(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(".") || !name.endsWith(TEMP_SUFFIX)) continue;
    await unlink(join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** The text of `dir/name`, or undefined when it cannot be read (absent, for one). */
export async function readIfPresent(dir: string, name: string): Promise<string | undefined> {
  return readFile(join(dir, name), "utf8").catch(() => undefined);
}
