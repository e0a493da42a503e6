/**
 * `certrotor sandbox` end to end with the real curl binary: the command writes its files, prints its
 * URL, and a person following seed 001's two curl recipes (PEM, then PFX) with those files gets a token.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { BIN, CLI_ENV, startSandboxCli } from "../fixtures/cli.js";

const run = promisify(execFile);
const TOKEN_PATH = "/public/gw_banking/v1/auth/token-v2";

async function curl(args: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const { stdout } = await run("curl", ["-sS", "-w", "\n%{http_code}", ...args]);
  const lines = stdout.trimEnd().split("\n");
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join("\n")) };
}

describe("certrotor sandbox with curl", () => {
  let dir: string;
  let cli: ReturnType<typeof startSandboxCli>;
  let url: string;
  let details: { url: string; client_id: string; client_secret: string; admin_api_key: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "certrotor-sandbox-"));
    cli = startSandboxCli(["--port", "0", "--out", dir]);
    url = await cli.url;
    details = JSON.parse(readFileSync(join(dir, "sandbox.json"), "utf8"));
  });
  after(() => {
    if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  const body = () =>
    JSON.stringify({
      client_id: details.client_id,
      client_secret: details.client_secret,
      grant_type: "client_credentials",
    });
  const file = (name: string) => join(dir, name);

  it("writes the client files, the secret ones with mode 0600, and the URL it listens on", () => {
    assert.equal(details.url, url);
    for (const name of ["client.key", "client.pfx", "client.pfx.pass", "sandbox.json", "ca.key"]) {
      assert.equal(statSync(file(name)).mode & 0o777, 0o600, name);
    }
    for (const name of ["bank-ca.pem", "bank-signing-ca.pem", "ca.pem", "client.pem"])
      assert.ok(statSync(file(name)).size > 0, name);
  });

  it("gives a Bearer token to curl with the PEM certificate and key (seed 001's first recipe)", async () => {
    const answer = await curl([
      "-X",
      "POST",
      `${url}${TOKEN_PATH}`,
      "--cert",
      file("client.pem"),
      "--key",
      file("client.key"),
      "--cacert",
      file("bank-ca.pem"),
      "-H",
      "Content-Type: application/json",
      "-d",
      body(),
    ]);
    assert.equal(answer.status, 200);
    assert.equal(answer.body["token_type"], "Bearer");
    assert.ok(String(answer.body["access_token"]).length > 20);
  });

  it("gives a Bearer token to curl with the PKCS#12 file and its passphrase (seed 001's PFX recipe)", async () => {
    const passphrase = readFileSync(file("client.pfx.pass"), "utf8").trim();
    const answer = await curl([
      "-X",
      "POST",
      `${url}${TOKEN_PATH}`,
      "--cert-type",
      "P12",
      "--cert",
      `${file("client.pfx")}:${passphrase}`,
      "--cacert",
      file("bank-ca.pem"),
      "-H",
      "Content-Type: application/json",
      "-d",
      body(),
    ]);
    assert.equal(answer.status, 200);
    assert.equal(answer.body["token_type"], "Bearer");
  });

  it("answers curl without a client certificate with 401 Invalid Client Certificate", async () => {
    const answer = await curl([
      "-X",
      "POST",
      `${url}${TOKEN_PATH}`,
      "--cacert",
      file("bank-ca.pem"),
      "-H",
      "Content-Type: application/json",
      "-d",
      body(),
    ]);
    assert.equal(answer.status, 401);
    assert.equal(answer.body["error_description"], "Invalid Client Certificate");
  });

  it("stops on SIGTERM with exit code 0", async () => {
    const exited = once(cli.child, "exit");
    cli.child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0, cli.stderr());
  });
});

describe("certrotor sandbox flags", () => {
  it("refuses a bad flag with one line on stderr and a non-zero exit", async () => {
    const error = await run(process.execPath, [BIN, "sandbox", "--port", "99999", "--out", tmpdir()], {
      env: { ...process.env, ...CLI_ENV },
    }).then(
      () => undefined,
      (failure: { code: number; stderr: string }) => failure,
    );
    assert.ok(error, "the command failed");
    assert.notEqual(error.code, 0);
    const lines = error.stderr.trim().split("\n");
    assert.equal(lines.length, 1, error.stderr);
    assert.match(lines[0]!, /--port/);
  });
});
