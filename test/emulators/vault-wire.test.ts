/**
 * The Vault emulator's transport: the LIST verb Node's HTTP parser does not know (served through the
 * connection shim, over kept-alive connections), fault injection (5xx with Vault's bodies, connections
 * dropped before or after the request took effect, latency), the request log, and the CLI entry point.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { METHODS } from "node:http";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { type Client, clientFor, refusal } from "./vault-test-helpers.js";
import { startVaultEmulator, type VaultEmulator } from "./vault/server.js";

let vault: VaultEmulator;
let client: Client;

before(async () => {
  vault = await startVaultEmulator({ rootToken: "root-wire" });
  client = clientFor(vault);
});
after(() => vault.stop());

describe("Vault emulator: the LIST verb", () => {
  it("serves node-vault's default list() (HTTP verb LIST, unknown to Node's parser) between other requests on one connection", async () => {
    assert.equal(METHODS.includes("LIST"), false, "Node's HTTP parser really does not know LIST");
    const connections = vault.counters.connections;
    await client.write("secret/data/verb/a", { data: { x: "1" } });
    const first = await client.list("secret/metadata/verb");
    await client.write("secret/data/verb/b", { data: { big: "y".repeat(50_000) } });
    const second = await client.list("secret/metadata/verb/");
    assert.deepEqual((await client.read("secret/data/verb/b")).data.data.big.length, 50_000);
    assert.deepEqual(first.data.keys, ["a"]);
    assert.deepEqual(second.data.keys, ["a", "b"]);
    assert.deepEqual(vault.logs.slice(-5), [
      "POST /v1/secret/data/verb/a 200",
      "LIST /v1/secret/metadata/verb 200",
      "POST /v1/secret/data/verb/b 200",
      "LIST /v1/secret/metadata/verb/ 200",
      "GET /v1/secret/data/verb/b 200",
    ]);
    assert.ok(vault.counters.connections - connections <= 1, "the LISTs rode kept-alive connections");
  });

  it("answers GET ?list=true (node-vault's noCustomHTTPVerbs) exactly as the LIST verb", async () => {
    const getList = clientFor(vault, vault.rootToken, { noCustomHTTPVerbs: true });
    const viaGet = await getList.list("secret/metadata/verb");
    const viaList = await client.list("secret/metadata/verb");
    assert.deepEqual(viaGet.data, viaList.data);
    assert.equal(vault.logs.at(-2), "GET /v1/secret/metadata/verb 200");
    assert.deepEqual((await refusal(getList.list("secret/metadata/verb-none"))).body, { errors: [] });
  });
});

describe("Vault emulator: faults", () => {
  it("answers the next requests 500 then 503 with Vault's error bodies, then serves again", async () => {
    vault.setFaults({ failNext: 2 });
    const first = await refusal(client.read("secret/data/verb/a"));
    assert.deepEqual(first, {
      message: "1 error occurred:\n\t* internal error\n\n",
      status: 500,
      body: { errors: ["1 error occurred:\n\t* internal error\n\n"] },
    });
    const second = await refusal(client.read("secret/data/verb/a"));
    assert.deepEqual(second.body, { errors: ["Vault is sealed"] });
    assert.equal(second.status, 503);
    assert.deepEqual((await client.read("secret/data/verb/a")).data.data, { x: "1" });
  });

  it("destroys the connection without an answer, before or after the request took effect", async () => {
    vault.setFaults({ dropNext: 1 });
    await assert.rejects(
      client.write("secret/data/drop/before", { data: { a: "1" } }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "ECONNRESET");
        return true;
      },
    );
    assert.deepEqual(
      (await refusal(client.read("secret/data/drop/before"))).body,
      { errors: [] },
      "not written",
    );
    vault.setFaults({ dropAfterNext: 1 });
    await assert.rejects(client.write("secret/data/drop/after", { data: { a: "1" } }));
    assert.deepEqual(
      (await client.read("secret/data/drop/after")).data.data,
      { a: "1" },
      "written, answer lost",
    );
    assert.ok(vault.logs.includes("POST /v1/secret/data/drop/before dropped"));
  });

  it("fails the same requests for the same seed and share, and keeps sys/health out of faults by default", async () => {
    const run = async (): Promise<boolean[]> => {
      vault.setFaults({ seed: 42, failRate: 0.3 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(
          await client.read("secret/data/verb/a").then(
            () => true,
            () => false,
          ),
        );
        assert.equal((await client.health()).sealed, false);
      }
      return outcomes;
    };
    const a = await run();
    const b = await run();
    vault.setFaults({});
    assert.deepEqual(a, b);
    const failed = a.filter((ok) => !ok).length;
    assert.ok(failed > 0 && failed < 40, `a share failed (${failed}/40)`);
  });

  it("adds latency and limits faults to a path prefix when asked", async () => {
    vault.setFaults({ failNext: 5, pathPrefix: "secret/data/only/" });
    assert.deepEqual((await client.read("secret/data/verb/a")).data.data, { x: "1" });
    assert.equal((await refusal(client.read("secret/data/only/x"))).status, 500);
    vault.setFaults({ latencyMs: 30 });
    const started = process.hrtime.bigint();
    await client.read("secret/data/verb/a");
    vault.setFaults({});
    assert.ok(process.hrtime.bigint() - started >= 25_000_000n, "the answer waited for the injected latency");
  });
});

describe("Vault emulator: request log", () => {
  it("logs method, path and status per request, never tokens, secret data or query strings", async () => {
    const token = vault.createToken({
      paths: [{ path: "secret/*", capabilities: ["read", "create", "update"] }],
    });
    const secret = "s3cr3t-value-that-must-not-be-logged";
    const limited = clientFor(vault, token);
    await limited.write("secret/data/logged", { data: { password: secret } });
    await limited.read("secret/data/logged?version=1");
    await refusal(clientFor(vault, "hvs.bogus-token-value").read("secret/data/logged"));
    const text = vault.logs.join("\n");
    for (const needle of [secret, token, vault.rootToken, "hvs.bogus-token-value", "version=1"]) {
      assert.equal(text.includes(needle), false, `log carries ${needle.slice(0, 6)}…`);
    }
    assert.deepEqual(vault.logs.slice(-3), [
      "POST /v1/secret/data/logged 200",
      "GET /v1/secret/data/logged 200",
      "GET /v1/secret/data/logged 403",
    ]);
  });
});

describe("Vault emulator: npm run emulator -- vault", () => {
  const cli = (args: string[]) =>
    spawn(process.execPath, ["--import", "tsx", "test/emulators/cli.ts", "vault", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });

  it("prints its address, serves node-vault with the given root token, and exits 0 on SIGTERM", async () => {
    const child = cli(["--port", "0", "--root-token", "cli-root"]);
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, "line")) as [string];
    const match =
      /^Vault emulator listening on (http:\/\/127\.0\.0\.1:\d+) \(KV v2 at secret\/, PKI at pki\/\)$/.exec(
        line,
      );
    assert.ok(match, line);
    const remote = clientFor({ url: match[1]!, rootToken: "cli-root" } as VaultEmulator);
    await remote.write("secret/data/cli", { data: { a: "1" } });
    assert.deepEqual((await remote.list("secret/metadata/")).data.keys, ["cli"]);
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0);
  });

  it("refuses an unknown flag with one line on stderr and exit code 2", async () => {
    const child = cli(["--port", "0", "--bogus", "1"]);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /^vault emulator: unknown flag "--bogus"/);
    assert.equal(stderr.trim().split("\n").length, 1);
  });
});
