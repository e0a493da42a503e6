/**
 * Runs one inline rotation in a child process (crash-child.mjs) that SIGKILLs itself at the named hook
 * point, as a crash would. Shared by the crash tests of every bank path.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./crash-child.mjs", import.meta.url));
/** On the run's compiled CLI without tsx when npm test built one (see crash-child.mjs), else the sources. */
const LOADER = process.env.CERTROTOR_TEST_CLI ? [] : ["--import", "tsx"];

/** The child's signal: SIGKILL when it reached `point`; null when it ran to its end without reaching it. */
export async function killAt(
  configPath: string,
  credentialId: string,
  rotationId: string,
  point: string,
): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [...LOADER, CHILD, configPath, credentialId, rotationId, point], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.resume();
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  if (signal !== "SIGKILL" && code !== 0) throw new Error(`child failed (${code}): ${stderr}`);
  return signal;
}
