/**
 * The Vault token never leaves for another origin. A Vault standby (or anything between certrotor and
 * Vault) may answer 307 with another address; a generic HTTP client (node-vault's own axios) follows it and
 * strips only Authorization and Cookie on a host change, so X-Vault-Token would go along. Here a server answers every
 * request with a redirect to a second server that records whatever reaches it: the store fails at once with a
 * clear, non-retryable error, and nothing (no connection, no header) reaches the second server.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createVaultStore } from "../../src/stores/vault.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { aMaterial } from "./vault-fixtures.js";
import { vaultStoreConfig } from "./vault-harness.js";

const TOKEN = "hvs.must-never-leave-the-origin";

async function listen(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

describe("vault store: redirects", () => {
  let vault: VaultEmulator;
  let catcher: Server;
  let redirector: Server;
  let catcherPort: number;
  let redirectorPort: number;
  const caught: IncomingHttpHeaders[] = [];
  let catcherConnections = 0;
  let redirected = 0;
  let target = "";

  before(async () => {
    vault = await startVaultEmulator();
    catcher = createServer((req, res) => {
      caught.push(req.headers);
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    });
    catcher.on("connection", () => catcherConnections++);
    catcherPort = await listen(catcher);
    redirector = createServer((req, res) => {
      redirected++;
      res.writeHead(307, { Location: `${target}${req.url}` }).end();
    });
    redirectorPort = await listen(redirector);
  });
  after(async () => {
    catcher.close();
    redirector.close();
    await vault.stop();
  });

  for (const [name, to] of [
    ["another port", () => `http://127.0.0.1:${catcherPort}`],
    ["another host name for the same address", () => `http://localhost:${catcherPort}`],
    ["another scheme", () => `https://127.0.0.1:${catcherPort}`],
  ] as const) {
    it(`refuses to follow a redirect to ${name}: STORE_UNAVAILABLE, not retried, and the token never reaches it`, async () => {
      target = to();
      const before = redirected;
      const store = await createVaultStore("redirected", {
        ...vaultStoreConfig(vault, TOKEN),
        address: `http://127.0.0.1:${redirectorPort}`,
      });
      try {
        const error = await expectCode(
          store.readCurrent({ credentialId: "c", path: "certrotor/c" }),
          "STORE_UNAVAILABLE",
          [TOKEN],
        );
        assert.equal((error as { retryable?: boolean }).retryable, false);
        assert.match(
          error.message,
          /was redirected: refused to follow a redirect from http:\/\/127\.0\.0\.1:\d+ to /,
        );
        assert.match((error as { hint?: string }).hint ?? "", /active Vault node|load balancer/);
        assert.equal(redirected, before + 1, "one request, no retry");
      } finally {
        await store.close();
      }
      assert.equal(catcherConnections, 0, "no connection was opened to the redirect's target");
      assert.deepEqual(caught, []);
    });
  }

  it("follows a 307 within the configured origin, keeping the method, the body and the token", async () => {
    // A front on one port: the first hop of every call is answered 307 to the same URL with a marker, the
    // second is relayed to the emulator (as a Vault standby behind a path-rewriting balancer would).
    const seen: string[] = [];
    const front = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://front");
      if (!url.searchParams.has("hop")) {
        url.searchParams.set("hop", "1");
        seen.push(`${req.method} 307`);
        res.writeHead(307, { Location: `${url.pathname}${url.search}` }).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", async () => {
        url.searchParams.delete("hop");
        const body = Buffer.concat(chunks);
        seen.push(`${req.method} relayed ${body.length > 0 ? "with" : "without"} body`);
        const relayed = await fetch(`${vault.url}${url.pathname}${url.search}`, {
          method: req.method ?? "GET",
          headers: { "X-Vault-Token": String(req.headers["x-vault-token"] ?? "") },
          ...(body.length > 0 ? { body } : {}),
        });
        res.writeHead(relayed.status, { "Content-Type": "application/json" }).end(await relayed.text());
      });
    });
    const frontPort = await listen(front);
    const store = await createVaultStore("fronted", {
      ...vaultStoreConfig(vault, vault.rootToken),
      address: `http://127.0.0.1:${frontPort}`,
    });
    try {
      const r = { credentialId: "c", path: `certrotor/redirected-${frontPort}` };
      const m = { ...(await aMaterial()), rotationId: "r1" };
      await store.writePending(r, "r1", m);
      assert.deepEqual((await store.readPending(r))?.material, m);
      assert.ok(seen.includes("POST 307"), seen.join(", "));
      assert.ok(seen.includes("POST relayed with body"), seen.join(", "));
      assert.ok(seen.includes("GET relayed without body"), seen.join(", "));
      assert.ok(!seen.some((s) => s.startsWith("GET") && s.includes("with body")));
    } finally {
      await store.close();
      front.close();
    }
  });

  it("still talks to Vault itself over the pinned agents", async () => {
    const store = await createVaultStore("direct", vaultStoreConfig(vault, vault.rootToken));
    try {
      await expectCode(store.readCurrent({ credentialId: "c", path: "certrotor/none" }), "NOT_FOUND");
    } finally {
      await store.close();
    }
  });
});
