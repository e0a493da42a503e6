/**
 * Certificate-bound tokens (RFC 8705) end to end: the protected call accepts a token only over the
 * certificate it was issued for, and the adapter refuses a token the bank bound to another certificate.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { createSandboxPki } from "../../src/sandbox/server-cert.js";
import { CertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { type BankWorld, bankConfig, bankWorld, rejection } from "./helpers.js";

function assertCode(error: unknown, code: string): void {
  assert.ok(error instanceof CertrotorError, `expected a CertrotorError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
}

describe("token binding on the protected call", () => {
  let world: BankWorld;
  before(async () => {
    world = await bankWorld({ config: { probe: { accountId: "123" } } });
  });
  after(() => world.stop());

  const creds = () => ({ clientId: world.clientId, clientSecret: world.clientSecret });

  it("verify gets a token and makes the probe call over the same certificate", async () => {
    const before = world.sandbox.logs.length;
    const token = await world.bank.verify(world.client, creds(), { probe: true });
    assert.equal(token.boundToCert, true);
    const calls = world.sandbox.logs.slice(before).map((entry) => `${entry.endpoint} ${entry.status}`);
    assert.deepEqual(calls, ["token 200", "balance 200"]);
    const fingerprints = new Set(world.sandbox.logs.slice(before).map((entry) => entry.certFingerprint));
    assert.deepEqual([...fingerprints], [world.client.fingerprint], "one certificate for both calls");
  });

  it("refuses on the protected call, as TOKEN_NOT_BOUND, a token issued for cert A presented over cert B", async () => {
    const certB = await aClientCert({ ca: world.ca });
    world.sandbox.bindCertificate(world.clientId, certB.certPem);
    const tokenA = await world.bank.requestToken(world.client, creds());
    await world.bank.probe(tokenA, world.client, "123");
    const error = await rejection(() => world.bank.probe(tokenA, certB, "123"));
    assertCode(error, "TOKEN_NOT_BOUND");
    assert.equal(world.sandbox.logs.at(-1)?.reason, "cnf_mismatch");
  });

  it("refuses the protected call over a certificate from an untrusted CA with INVALID_CLIENT_CERT, even with a valid token", async () => {
    const token = await world.bank.requestToken(world.client, creds());
    const foreign = await aClientCert({ ca: await aCa() });
    assertCode(await rejection(() => world.bank.probe(token, foreign, "123")), "INVALID_CLIENT_CERT");
    assert.equal(world.sandbox.logs.at(-1)?.reason, "untrusted_chain");
  });

  it("asks for a probe account when a probe is requested without one", async () => {
    const noProbe = createBankingApi("no-probe", bankConfig(world.sandbox), {
      caPem: world.sandbox.serverCaPem,
    });
    assertCode(await rejection(() => noProbe.verify(world.client, creds(), { probe: true })), "BAD_ARGUMENT");
    const token = await noProbe.verify(world.client, creds(), { probeAccountId: "456" });
    assert.equal(token.tokenType, "Bearer");
  });
});

describe("a bank that binds the token to another certificate", () => {
  let serverCaPem: string;
  let clientCa: PkiMaterial;
  let stop: () => Promise<void>;
  let url: string;
  before(async () => {
    // A deliberately misbehaving bank: real mTLS, but its token's cnf names some other certificate.
    const pki = await createSandboxPki("127.0.0.1", new Date());
    serverCaPem = pki.serverCaPem;
    clientCa = await aCa();
    const claims = { sub: "x", cnf: { "x5t#S256": Buffer.alloc(32, 7).toString("base64url") } };
    const token = ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "c2ln"].join(".");
    const server = createServer({
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      requestCert: true,
      rejectUnauthorized: true,
      ca: clientCa.certPem,
    });
    server.on("request", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 300 }));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stop = async () => {
      server.close();
      server.closeAllConnections();
      await once(server, "close");
    };
  });
  after(() => stop());

  it("fails requestToken with TOKEN_NOT_BOUND", async () => {
    const client = await aClientCert({ ca: clientCa });
    const bank = createBankingApi(
      "misbinding",
      {
        kind: "banking-api",
        url,
        adminApiKey: "k",
        tls: { minVersion: "TLSv1.2", maxVersion: "TLSv1.3" },
        requestTimeout: 5_000,
        retries: 0,
        registration: "api",
        maxSlots: 2,
      },
      { caPem: serverCaPem },
    );
    const error = await rejection(() => bank.requestToken(client, { clientId: "x", clientSecret: "y" }));
    assertCode(error, "TOKEN_NOT_BOUND");
  });
});
