/**
 * Writing small local files durably with one trip through the thread pool: open, write, rename, link and
 * close are synchronous, and only the fsync (which waits for the disk, unbounded on a slow volume) goes to
 * the thread pool. Each fs/promises call is its own trip (open, write, sync and close of one file: four),
 * and a rotation writes state and store files about ninety times: those trips, not the page-cache writes
 * of a few hundred bytes, were most of what a rotation spent beyond its crypto and TLS
 * (docs/benchmarks.md). Used by the state directory (journal, locks) and the file store.
 */
import { closeSync, fsync, openSync, unlinkSync, writeSync } from "node:fs";
import { promisify } from "node:util";

const fsyncFd = promisify(fsync);

/** Creates `path` (it must not exist) holding `data`, mode `mode`; fsynced before returning when `durable`. */
export async function writeNewFile(
  path: string,
  data: string | Buffer,
  { mode = 0o600, durable = true }: { mode?: number; durable?: boolean } = {},
): Promise<void> {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fd = openSync(path, "wx", mode);
  try {
    for (let written = 0; written < bytes.length; )
      written += writeSync(fd, bytes, written, bytes.length - written);
    if (durable) await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a directory, so the renames and links in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, "r");
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes a temp file of ours after a failed write, best effort: absent is fine, and start-up cleanup finds the rest. */
export function dropTemp(temp: string): void {
  try {
    unlinkSync(temp);
  } catch {
    // already gone, or left for the next start's cleanup
  }
}
