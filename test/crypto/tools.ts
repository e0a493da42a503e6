/**
 * Runs the real tools the crypto tests check against (openssl, keytool) in a per-test temp dir.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** Runs `cmd` with `args` in `cwd`; rejects with the tool's stderr when it exits non-zero. */
export async function tool(cmd: string, args: string[], cwd: string): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; code?: number };
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${failed.code}: ${failed.stderr ?? ""}${failed.stdout ?? ""}`,
    );
  }
}

export const openssl = (args: string[], cwd: string): Promise<ToolResult> => tool("openssl", args, cwd);

export interface TempDir {
  path: string;
  /** Writes `content` to `name` inside the dir and returns the file name. */
  write(name: string, content: string | Buffer): Promise<string>;
  file(name: string): string;
  remove(): Promise<void>;
}

export async function tempDir(prefix = "certrotor-crypto-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    async write(name, content) {
      await writeFile(join(path, name), content);
      return name;
    },
    file: (name) => join(path, name),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
