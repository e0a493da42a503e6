/**
 * Runs the third-party clients the emulators are checked with: Debian's python3-hvac and python3-boto3
 * (through Debian's own interpreter, /usr/bin/python3: a pyenv python on PATH does not see Debian's
 * packages) and Debian's AWS CLI v2 (/usr/bin/aws, not whatever `aws` is first on PATH). A missing package
 * fails with the command that installs it (.ci/run installs them when missing).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PYTHON = "/usr/bin/python3";
export const AWS_CLI = "/usr/bin/aws";
const INSTALL = "apt-get update && apt-get install -y python3-hvac python3-boto3 awscli";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file` with `args`, feeding `input` on stdin; resolves with its exit code and output (never rejects on exit code). */
export function run(
  file: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(
            new Error(
              `${file} could not run (${String(error.code ?? error.message)}): install the Debian packages with \`${INSTALL}\``,
            ),
          );
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

/** The environment without proxy settings: the drivers talk to emulators on loopback. */
function withoutProxies(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(env).filter(([key]) => !/^(https?|all)_proxy$/i.test(key)));
  return { ...clean, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };
}

/** Runs one of the Python drivers beside this file with a JSON input; returns its JSON output. */
export async function pythonDriver<T>(script: string, input: object): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const result = await run(PYTHON, [path], {
    input: JSON.stringify(input),
    env: withoutProxies(process.env),
  });
  if (result.code !== 0) {
    const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(result.stderr)?.[1];
    throw new Error(
      missing
        ? `${PYTHON} has no module "${missing}": install the Debian packages with \`${INSTALL}\``
        : `${script} failed (exit ${result.code}): ${result.stderr.trim().split("\n").slice(-5).join(" | ")}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}
