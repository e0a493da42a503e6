/**
 * `npm run emulator -- aws ...` as a process: prints its address, serves the real SDK with the keys given on
 * the command line, stops cleanly on SIGTERM, and refuses bad flags with one line and exit code 2.
 */
import assert from "node:assert/strict";
import { GetSecretValueCommand, CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { clientFor } from "./aws/sdk.js";
import { optionsFromArgs } from "./aws/serve.js";

const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));

function launch(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", cli, "aws", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Resolves with the first stdout line matching `pattern`. */
async function firstLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  let output = "";
  for await (const chunk of child.stdout!) {
    output += String(chunk);
    const match = pattern.exec(output);
    if (match) return match;
  }
  throw new Error(`the emulator exited without printing ${pattern}: ${output}`);
}

describe("npm run emulator -- aws", () => {
  it("serves the SDK with the keys from its flags until SIGTERM", async () => {
    const keys = {
      accessKeyId: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString("base64"),
    };
    const child = launch([
      "--port",
      "0",
      "--region",
      "sa-east-1",
      "--access-key-id",
      keys.accessKeyId,
      "--secret-access-key",
      keys.secretAccessKey,
    ]);
    try {
      const [, url] = await firstLine(
        child,
        /listening on (http:\/\/\S+) \(region sa-east-1, access key id (\S+)\)/,
      );
      const { client } = clientFor({ url: url!, region: "sa-east-1", credentials: keys });
      await client.send(new CreateSecretCommand({ Name: "served", SecretString: "v" }));
      assert.equal((await client.send(new GetSecretValueCommand({ SecretId: "served" }))).SecretString, "v");
      client.destroy();
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  });

  it("refuses an unknown flag with one line on stderr and exit code 2", async () => {
    const child = launch(["--prot", "4566"]);
    let stderr = "";
    child.stderr!.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const [code] = await once(child, "exit");
    assert.equal(code, 2);
    const lines = stderr.split("\n").filter((line) => line.startsWith("emulator aws:"));
    assert.deepEqual(lines, ['emulator aws: unknown option "--prot"']);
  });

  it("takes the stale-read window and share as fault flags, and refuses a share outside 0..1", () => {
    assert.deepEqual(
      optionsFromArgs(["--stale-read-ms", "500", "--stale-read-rate", "0.5", "--seed", "3"]).faults,
      {
        staleReadRate: 0.5,
        staleReadMs: 500,
        seed: 3,
      },
    );
    assert.throws(
      () => optionsFromArgs(["--stale-read-rate", "2"]),
      /option --stale-read-rate must be a number from 0 to 1, got "2"/,
    );
  });

  it("refuses a fault rate outside 0..1 and a key id without its secret", async () => {
    for (const args of [
      ["--error-rate", "1.5"],
      ["--access-key-id", "AKIAEXAMPLE"],
    ]) {
      const child = launch(args);
      const [code] = await once(child, "exit");
      assert.equal(code, 2, args.join(" "));
    }
  });
});
