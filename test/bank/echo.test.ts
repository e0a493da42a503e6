/**
 * A bank that echoes the request in its error text (some gateways quote the body they could not
 * parse, or the headers they saw) must not make certrotor repeat the client secret, the access token
 * or the admin API key: the status and the bank's documented error fields are kept, anything the
 * request carried is redacted. Through the adapter (token and admin calls) and through the CLI.
 */
import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { once } from "node:events";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { CertrotorError } from "../../src/errors.js";
import { certrotor } from "../fixtures/cli.js";
import { aCa, aClientCert, aServerCert } from "../fixtures/pki.js";
import { installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { bankConfig, rejection } from "./helpers.js";

const SECRET = "client-secret-7f3a9c1e55";
const API_KEY = "admin-api-key-0d9e8b7a6c";

/** Answers every request with `status` and an error text quoting the raw body and the authorization header. */
async function echoingBank(status: number): Promise<{ url: string; caPem: string; server: Server }> {
  const ca = await aCa({ subject: "CN=Echo Bank CA,O=echo,C=BR" });
  const cert = await aServerCert({ ca, hosts: ["127.0.0.1"] });
  const server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const echo = `${Buffer.concat(chunks).toString()} authorization=${req.headers.authorization ?? ""}`;
      res.writeHead(status, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: "invalid_request",
          error_description: `request rejected, certificate check: ${echo}`,
          trace: { request: echo },
        }),
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caPem: ca.certPem, server };
}

/** Every file name and content under `dir`, as one text. */
async function readTree(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    parts.push(path);
    if (entry.isFile()) parts.push(await readFile(path, "utf8"));
  }
  return parts.join("\n");
}

function visible(error: unknown): string {
  assert.ok(error instanceof CertrotorError, String(error));
  return [
    error.message,
    error.toSafeString(),
    JSON.stringify(error.toJSON()),
    JSON.stringify(error.details),
  ].join("\n");
}

describe("a bank that echoes the request in its errors", () => {
  let bad: Awaited<ReturnType<typeof echoingBank>>;
  let down: Awaited<ReturnType<typeof echoingBank>>;
  before(async () => {
    bad = await echoingBank(400);
    down = await echoingBank(503);
  });
  after(() => {
    for (const { server } of [bad, down]) {
      server.closeAllConnections();
      server.close();
    }
  });

  it("keeps the status and the documented error text, and redacts the client secret and the API key", async () => {
    const client = await aClientCert({ ca: await aCa() });
    for (const { url, caPem } of [bad, down]) {
      const bank = createBankingApi("echo", bankConfig({ url, adminApiKey: API_KEY }, { retries: 0 }), {
        caPem,
      });
      try {
        const token = await rejection(() =>
          bank.requestToken(client, { clientId: "acme", clientSecret: SECRET }),
        );
        const admin = await rejection(() => requireSlots(bank).listSlots("acme"));
        for (const error of [token, admin]) {
          const text = visible(error);
          assert.ok(!text.includes(SECRET), text);
          assert.ok(!text.includes(API_KEY), text);
          assert.match(text, /request rejected, certificate check: .*\[redacted\]/);
          assert.equal((error as CertrotorError).details.status, url === bad.url ? 400 : 503);
        }
        assert.equal(
          (token as CertrotorError).code,
          url === bad.url ? "BANK_BAD_REQUEST" : "BANK_UNAVAILABLE",
        );
      } finally {
        await bank.close();
      }
    }
  });

  describe("through the CLI", () => {
    let world: TestWorld;
    before(async () => {
      world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    });
    after(() => world.stop());

    it("rotate --inline fails without printing the admin API key or the client secret, and changes nothing", async () => {
      const caFile = join(world.dir, "echo-ca.pem");
      await writeFile(caFile, down.caPem);
      const config = join(world.dir, "echo.json");
      const { clientSecret } = world.credentials[0]!;
      await writeFile(
        config,
        JSON.stringify({
          ...world.config,
          banks: {
            sandbox: {
              ...world.config.banks.sandbox,
              url: down.url,
              caFile,
              adminApiKey: API_KEY,
              retries: 0,
            },
          },
          renewal: { ...world.config.renewal, attempts: 1 },
        }),
      );
      // a failed rotation writes its journal, lock fence and alert episode: the store must stay as it was
      const storeOnly = async (): Promise<string> =>
        (await installationSnapshot(world))
          .split("\n")
          .filter((line) => !line.startsWith("state/"))
          .join("\n");
      const before = await storeOnly();
      const run = await certrotor("rotate", "cred-0", "--inline", "--config", config);
      assert.notEqual(run.code, 0, run.stdout + run.stderr);
      const output = run.stdout + run.stderr;
      assert.match(
        output,
        /BANK_UNAVAILABLE: .*the bank answered 503: "request rejected, certificate check: .*\[redacted\]/,
      );
      assert.ok(!output.includes(API_KEY), output);
      assert.ok(!output.includes(clientSecret), output);
      assert.equal(await storeOnly(), before);
      const written = await readTree(world.config.stateDir);
      assert.ok(written.includes("rotation-failed"), "the failure was recorded");
      assert.ok(
        !written.includes(API_KEY) && !written.includes(clientSecret),
        "nor in the journal or episodes",
      );
    });
  });
});
