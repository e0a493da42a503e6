// Processes a test run left behind. Every process the suite starts inherits the run's environment, so
// after the run the ones still carrying its marker are leftovers: redis-servers and workers of a test
// file the runner killed at its time bound (a file's exit hooks do not run on a signal), reparented to
// init where no pid list reaches them. Linux only (/proc); elsewhere there is nothing to find.
import { readdirSync, readFileSync } from "node:fs";

/** The pids and command names of the processes whose environment holds `marker` (NAME=value). */
export function processesMarked(marker) {
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const found = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (!environ.includes(marker)) continue;
      const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      found.push({ pid, name });
    } catch {
      // gone already, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs what `processesMarked` finds; returns what it killed. */
export function killMarked(marker) {
  const found = processesMarked(marker);
  for (const { pid } of found) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited in between
    }
  }
  return found;
}
