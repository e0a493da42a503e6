import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { startRedis } from "../harness/redis.js";
import { BIN, CLI_ENV } from "../fixtures/cli.js";

const run = promisify(execFile);

interface Side {
  fingerprint: string;
  notAfter: string;
  boundFingerprints: string[];
  tokenStatus: number;
}

function demo(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, "demo", ...args], {
    env: { ...process.env, ...CLI_ENV, REDIS_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function collect(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

function checkReport(report: { mode: string; before: Side; after: Side }, mode: string): void {
  assert.equal(report.mode, mode);
  assert.notEqual(report.after.fingerprint, report.before.fingerprint);
  assert.ok(new Date(report.after.notAfter) > new Date(report.before.notAfter));
  assert.deepEqual(report.before.boundFingerprints, [report.before.fingerprint]);
  assert.deepEqual(report.after.boundFingerprints, [report.after.fingerprint]);
  assert.equal(report.before.tokenStatus, 401, "the old cert was retired at the bank");
  assert.equal(report.after.tokenStatus, 200, "the new cert obtains a token");
}

describe("certrotor demo", () => {
  it("rotates through the real queue (its own redis-server) and prints the before/after report as JSON", async () => {
    const result = await collect(demo(["--json", "--key-type", "p256"]));
    assert.equal(result.code, 0, result.stderr);
    checkReport(JSON.parse(result.stdout), "queue");
  });

  it("runs inline when Redis is not reachable, and says so", async () => {
    const result = await collect(
      demo(["--json", "--key-type", "p256", "--redis-url", "redis://127.0.0.1:1"]),
    );
    assert.equal(result.code, 0, result.stderr);
    checkReport(JSON.parse(result.stdout), "inline");
  });

  it("prints a Redis URL with its password redacted, reachable or not", async () => {
    const password = "demo-pw-Zq7xV2";
    const redis = await startRedis({ args: () => ["--requirepass", password] });
    try {
      for (const [url, mode] of [
        [`redis://default:${password}@127.0.0.1:${redis.port}`, "queue"],
        [`redis://default:${password}@127.0.0.1:1`, "inline"],
      ] as const) {
        const result = await collect(demo(["--key-type", "p256", "--redis-url", url]));
        assert.equal(result.code, 0, result.stderr);
        const shown = url.replace(password, "***");
        assert.ok(result.stdout.includes(`mode: ${mode} — Redis at ${shown}`), result.stdout);
        assert.ok(!`${result.stdout}${result.stderr}`.includes(password), "the password was printed");
      }
    } finally {
      await redis.stop();
    }
  });

  it("writes the rotated material with the sandbox's file names and, with --serve, answers the seed's curl commands", async () => {
    const dir = await mkdtemp(join(tmpdir(), "certrotor-demo-out-"));
    const child = demo(["--out", dir, "--serve", "--key-type", "rsa2048"]);
    try {
      let stdout = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on("data", (c: Buffer) => {
          stdout += c.toString();
          const match = /sandbox still serving on (https:\/\/\S+);/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        child.once("exit", (code) => reject(new Error(`demo exited ${code}: ${stdout}`)));
      });
      assert.match(stdout, /^mode: queue/m);
      assert.match(stdout, /^\s+token call\s+401\s+200\s*$/m);
      for (const name of [
        "bank-ca.pem",
        "ca.pem",
        "client.pem",
        "client.key",
        "client.pfx",
        "client.pfx.pass",
        "sandbox.json",
      ]) {
        await stat(join(dir, name));
      }
      assert.equal((await stat(join(dir, "client.key"))).mode & 0o777, 0o600);
      const details = JSON.parse(await readFile(join(dir, "sandbox.json"), "utf8")) as {
        url: string;
        client_id: string;
      };
      assert.equal(details.url, url);
      const body = await readFile(join(dir, "token-request.json"), "utf8");
      const pass = (await readFile(join(dir, "client.pfx.pass"), "utf8")).trim();
      const token = `${url}/public/gw_banking/v1/auth/token-v2`;
      const common = [
        "-sS",
        "-X",
        "POST",
        token,
        "--cacert",
        join(dir, "bank-ca.pem"),
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
      ];
      for (const form of [
        ["--cert", join(dir, "client.pem"), "--key", join(dir, "client.key")],
        ["--cert-type", "P12", "--cert", `${join(dir, "client.pfx")}:${pass}`],
      ]) {
        const { stdout: answer } = await run("curl", [...common, ...form]);
        const parsed = JSON.parse(answer) as { token_type: string; access_token: string };
        assert.equal(parsed.token_type, "Bearer");
        assert.ok(parsed.access_token.length > 20);
      }
      const exited = once(child, "exit");
      child.kill("SIGINT");
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
