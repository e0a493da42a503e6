/**
 * The README's tutorial runs as written: its shell blocks, in order, in one bash (`set -euo pipefail`),
 * against real parts: `certrotor sandbox` as the bank, the file store, a real redis-server from the
 * harness for the worker, the console and curl. `certrotor` on the PATH is the CLI the tests run
 * (test/fixtures/cli.ts). The tutorial's last block stops what it started; the test checks it did.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pollUntil } from "../../src/util/poll.js";
import { BIN, CLI_ENV } from "../fixtures/cli.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { read } from "./markdown.js";

/** The ```sh blocks of the README's "## Tutorial" section, in order. */
export function tutorialScript(readme: string): string {
  const start = readme.indexOf("\n## Tutorial");
  const end = readme.indexOf("\n## ", start + 1);
  assert.ok(start >= 0 && end > start, 'README.md has a "## Tutorial" section');
  const blocks = [...readme.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.ok(blocks.length >= 5, `the tutorial's shell blocks (${blocks.length})`);
  return blocks.join("\n");
}

/** True while any process of the group `pgid` lives. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the README's tutorial", () => {
  let dir: string;
  let redis: RedisServer;
  let pgid: number | undefined;

  before(async () => {
    [dir, redis] = await Promise.all([mkdtemp(join(tmpdir(), "certrotor-tutorial-")), startRedis()]);
    // `certrotor` as the reader has it on the PATH: the CLI under test
    await mkdir(join(dir, "bin"));
    const env = Object.entries(CLI_ENV).map(([k, v]) => `${k}=${JSON.stringify(v)} `);
    await writeFile(
      join(dir, "bin", "certrotor"),
      `#!/bin/sh\n${env.join("")}exec "${process.execPath}" "${BIN}" "$@"\n`,
    );
    await chmod(join(dir, "bin", "certrotor"), 0o755);
  });

  after(async () => {
    // whatever the tutorial left running (it stops its own processes on success)
    if (pgid !== undefined && groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("imports a credential, a worker rotates it, the console shows it, and it stops what it started", {
    timeout: 180_000,
  }, async () => {
    const script = `set -euo pipefail\n${tutorialScript(read("README.md"))}`;
    const child = spawn("bash", ["-c", script], {
      cwd: dir,
      detached: true,
      env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}`, REDIS_URL: redis.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    pgid = child.pid;
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, `the tutorial failed:\n${stdout}\n${stderr}`);

    assert.match(stdout, /imported: now current/, "step 4 imports");
    assert.match(
      stdout,
      /awaiting registration: rotation rot_\w+ waits on task task_[0-9a-f]+/,
      "step 6 parks",
    );
    assert.match(stdout, /task task_[0-9a-f]+ done \(sign-csr, credential payments\)/, "the task is done");
    assert.match(stdout, /retire-due/, "the rotation promoted the new one");
    assert.match(stdout, /promoted/, "status --history shows the promote");
    const fleet = stdout.split("\n").find((line) => line.startsWith("{") && line.includes('"payments"'));
    assert.ok(fleet, `the console's fleet lists payments:\n${stdout}`);

    await pollUntil(async () => (groupAlive(pgid!) ? undefined : true), {
      timeoutMs: 15_000,
      what: "the tutorial's processes to stop",
    });
  });
});
