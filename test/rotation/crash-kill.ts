/**
 * Runs one inline rotation in a child process (crash-child.ts) that SIGKILLs itself at the named hook
 * point, as a crash would. Shared by the crash tests of every bank path.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));

/** The child's signal: SIGKILL when it reached `point`; null when it ran to its end without reaching it. */
export async function killAt(
  configPath: string,
  credentialId: string,
  rotationId: string,
  point: string,
): Promise<NodeJS.Signals | null> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CHILD, configPath, credentialId, rotationId, point],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.resume();
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  if (signal !== "SIGKILL" && code !== 0) throw new Error(`child failed (${code}): ${stderr}`);
  return signal;
}
