/** The console's commands through the real CLI: hash-password on stdin, the refusals, serving and stopping. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { verifyPassword } from "../../src/console/password.js";
import { BIN, CLI_ENV, certrotor } from "../fixtures/cli.js";
import { assertRefused } from "../fixtures/refusal.js";
import { exitOf, outputMatches, spawnProcess } from "../queue/helpers.js";
import { consoleUsers } from "./helpers.js";

async function hashPasswordCli(
  stdin: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, "console", "hash-password"], {
    env: { ...process.env, ...CLI_ENV },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(stdin);
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

describe("console commands", () => {
  let dir: string;
  const config = (console: Record<string, unknown>) => ({
    stateDir: join(dir, "state"),
    log: { level: "silent" },
    console,
  });
  const write = async (name: string, body: unknown): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(body));
    return path;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "certrotor-console-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("hash-password reads the password on stdin and prints a scrypt hash of it", async () => {
    const run = await hashPasswordCli("a long enough password\n");
    assert.equal(run.code, 0, run.stderr);
    const hash = run.stdout.trim();
    assert.match(hash, /^scrypt\$131072\$8\$1\$/);
    assert.equal(
      await verifyPassword("a long enough password", hash),
      true,
      "the trailing newline is not part of it",
    );
    assert.ok(!run.stdout.includes("a long enough password"));
  });

  it("hash-password refuses a short password in one line, exit 64", async () => {
    assertRefused(await hashPasswordCli("short"), "BAD_ARGUMENT", 64, /shorter than 8/);
  });

  it("refuses to serve a console nobody can log in to", async () => {
    const path = await write("no-users.json", config({}));
    assertRefused(
      await certrotor("console", "--config", path),
      "CONFIG_INVALID",
      64,
      /console\.users is empty/,
    );
  });

  it("refuses plain HTTP on a host that is not loopback, at load and on the command line", async () => {
    const users = await consoleUsers();
    const atLoad = await write("open.json", config({ host: "0.0.0.0", users }));
    assertRefused(await certrotor("console", "--config", atLoad), "CONFIG_INVALID", 64, /console\.host/);
    const loopback = await write("loopback.json", config({ users }));
    assertRefused(
      await certrotor("console", "--config", loopback, "--host", "0.0.0.0"),
      "BAD_ARGUMENT",
      64,
      /clear text/,
    );
  });

  it("serves the login page on loopback and stops on SIGTERM with exit 0", async () => {
    const path = await write("serve.json", config({ users: await consoleUsers() }));
    const proc = spawnProcess(
      [BIN, "console", "--config", path, "--port", "0"],
      "certrotor console: listening on",
    );
    try {
      await proc.ready;
      await outputMatches(proc, /listening on http:\/\/127\.0\.0\.1:\d+/, 5_000);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output())![1]!;
      const login = await fetch(`${url}/login`);
      assert.equal(login.status, 200);
      assert.match(await login.text(), /<form method="post" action="\/login"/);
      assert.match(login.headers.get("set-cookie") ?? "", /HttpOnly; SameSite=Strict/);
      const htmx = await fetch(`${url}/assets/htmx.min.js`);
      assert.equal(htmx.status, 200);
      assert.match(htmx.headers.get("content-type") ?? "", /javascript/);
      proc.child.kill("SIGTERM");
      assert.deepEqual(await exitOf(proc, 10_000), { code: 0, signal: null });
    } finally {
      proc.child.kill("SIGKILL");
    }
  });
});
