/**
 * Telling the consumer that its files changed, once every file is in place: run a command (`--exec`,
 * through `sh -c`) or signal a process named by a pid file (`--signal`, `--pid-file`). Neither is fatal:
 * a command's exit status is logged, and a pid file that is missing, holds no pid or names a process that
 * is gone (the consumer not started yet, or restarting) is a warning. The agent keeps following the
 * credential either way, and the files are already current for the consumer's next start.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { AdapterLogger } from "../observability/logger.js";

/** The agent's logger: pino's shape, never handed a key, passphrase or secret. */
export interface AgentLogger extends AdapterLogger {
  info(fields: object, message: string): void;
}

export type Notifier = (change: { fingerprint: string; version: string }) => Promise<void>;

/** `--exec CMD`: sh -c CMD, its output on the agent's stderr; resolves with its exit code or signal. */
export function execNotifier(command: string, dir: string, logger: AgentLogger): Notifier {
  return ({ fingerprint, version }) =>
    new Promise((resolve) => {
      const child = spawn("sh", ["-c", command], {
        stdio: ["ignore", 2, 2],
        // the certificate's fingerprint and the store version, never a key or secret
        env: {
          ...process.env,
          CERTROTOR_AGENT_DIR: dir,
          CERTROTOR_FINGERPRINT: fingerprint,
          CERTROTOR_VERSION: version,
        },
      });
      child.once("error", (error: NodeJS.ErrnoException) => {
        logger.warn({ errno: error.code ?? "error" }, "certrotor agent: --exec could not start sh");
        resolve();
      });
      child.once("exit", (code, signal) => {
        if (code === 0) logger.info({ exitCode: 0 }, "certrotor agent: --exec command succeeded");
        else
          logger.warn(
            { exitCode: code ?? undefined, signal: signal ?? undefined },
            "certrotor agent: --exec command failed; the files are written, the agent keeps going",
          );
        resolve();
      });
    });
}

/** The pid in `file`, or a reason it holds none. */
async function pidFrom(file: string): Promise<number | string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return `the pid file cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : "the pid file holds no process id";
}

/** `--signal SIG --pid-file F`: kill(pid, SIG) with the pid F holds now (read at every change). */
export function signalNotifier(signal: NodeJS.Signals, pidFile: string, logger: AgentLogger): Notifier {
  return async () => {
    const pid = await pidFrom(pidFile);
    if (typeof pid === "string") {
      logger.warn({ pidFile }, `certrotor agent: ${pid}; no ${signal} sent, the agent keeps going`);
      return;
    }
    try {
      process.kill(pid, signal);
      logger.info({ pid, signal }, "certrotor agent: consumer signalled");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      const why = code === "ESRCH" ? "no such process (a stale pid file)" : `not permitted (${code})`;
      logger.warn(
        { pidFile, pid, signal },
        `certrotor agent: ${signal} not sent: ${why}; the agent keeps going`,
      );
    }
  };
}
