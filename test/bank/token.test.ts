/**
 * Seed 001's token contract over real mTLS: every row of the error table produced by a real request to
 * the sandbox and mapped by the banking-api adapter to its typed error, plus success with PEM and PFX.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { tokenAnswerError } from "../../src/bank/answers.js";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { startSandbox, TOKEN_PATH } from "../../src/sandbox/index.js";
import { createSandboxPki } from "../../src/sandbox/server-cert.js";
import type { HttpAnswer } from "../../src/bank/transport.js";
import { buildPfx, inspectCertificate } from "../../src/crypto/index.js";
import { CertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, days } from "../fixtures/pki.js";
import { type BankWorld, bankConfig, bankWorld, rejection, tokenRequests } from "./helpers.js";

function assertCoded(error: unknown, code: string): CertrotorError {
  assert.ok(error instanceof CertrotorError, `expected a CertrotorError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.ok(error.hint && error.hint.length > 10, "a troubleshooting hint is attached");
  return error;
}

const thumbprintOf = (certPem: string): string =>
  Buffer.from(inspectCertificate(certPem).fingerprint, "hex").toString("base64url");

describe("token endpoint over mTLS", () => {
  let world: BankWorld;
  before(async () => {
    world = await bankWorld();
  });
  after(() => world.stop());

  const creds = () => ({ clientId: world.clientId, clientSecret: world.clientSecret });

  it("issues a Bearer token bound to the presented PEM certificate (cnf.x5t#S256)", async () => {
    const token = await world.bank.requestToken(
      { certPem: world.client.certPem, keyPem: world.client.keyPem },
      creds(),
    );
    assert.equal(token.tokenType, "Bearer");
    assert.equal(token.expiresIn, 3600);
    assert.equal(token.boundToCert, true);
    assert.equal(token.certThumbprint, thumbprintOf(world.client.certPem));
    const claims = JSON.parse(Buffer.from(token.accessToken.split(".")[1]!, "base64url").toString());
    assert.equal(claims.cnf["x5t#S256"], token.certThumbprint);
    assert.equal(claims.sub, world.clientId);
    assert.ok(!JSON.stringify(token).includes(token.accessToken), "the token is not serialized");
  });

  it("issues a token with PFX material (key, cert and chain in one PKCS#12)", async () => {
    const pfx = buildPfx({ ...world.client, chainPem: world.ca.certPem, passphrase: "pfx-pass-123" });
    const token = await world.bank.requestToken({ pfx, passphrase: "pfx-pass-123" }, creds());
    assert.equal(token.certThumbprint, thumbprintOf(world.client.certPem));
    assert.equal(token.boundToCert, true);
  });

  it("refuses a PFX with the wrong passphrase before connecting, as PFX_BAD_PASSPHRASE", async () => {
    const pfx = buildPfx({ ...world.client, passphrase: "right-one" });
    const before = world.sandbox.logs.length;
    const error = await rejection(() => world.bank.requestToken({ pfx, passphrase: "wrong-one" }, creds()));
    assertCoded(error, "PFX_BAD_PASSPHRASE");
    assert.equal(world.sandbox.logs.length, before, "nothing reached the bank");
  });

  it("maps a wrong client_secret to INVALID_CREDENTIALS and does not retry it", async () => {
    const before = tokenRequests(world.sandbox).length;
    const error = await rejection(() =>
      world.bank.requestToken(world.client, { clientId: world.clientId, clientSecret: "not-the-secret" }),
    );
    assertCoded(error, "INVALID_CREDENTIALS");
    assert.equal(tokenRequests(world.sandbox).length - before, 1, "exactly one request");
  });

  it("maps an unknown client_id to INVALID_CREDENTIALS", async () => {
    const error = await rejection(() =>
      world.bank.requestToken(world.client, { clientId: "nobody", clientSecret: world.clientSecret }),
    );
    assertCoded(error, "INVALID_CREDENTIALS");
  });

  it("maps an inactive credential to INVALID_CREDENTIALS, and works again once reactivated", async () => {
    world.sandbox.setStatus(world.clientId, "inactive");
    assertCoded(await rejection(() => world.bank.requestToken(world.client, creds())), "INVALID_CREDENTIALS");
    world.sandbox.setStatus(world.clientId, "active");
    await world.bank.requestToken(world.client, creds());
  });

  it("maps a trusted certificate that is not bound to the credential to INVALID_CLIENT_CERT", async () => {
    const unbound = await aClientCert({ ca: world.ca });
    const error = await rejection(() => world.bank.requestToken(unbound, creds()));
    assertCoded(error, "INVALID_CLIENT_CERT");
    assert.equal(tokenRequests(world.sandbox).at(-1)?.reason, "cert_not_bound");
  });

  it("maps a bound but expired certificate to INVALID_CLIENT_CERT", async () => {
    const now = Date.now();
    const expired = await aClientCert({
      ca: world.ca,
      notBefore: new Date(now - days(30)),
      notAfter: new Date(now - days(1)),
    });
    const { clientId, clientSecret } = world.sandbox.addCredential({ certificates: [expired.certPem] });
    const error = await rejection(() => world.bank.requestToken(expired, { clientId, clientSecret }));
    assertCoded(error, "INVALID_CLIENT_CERT");
    assert.equal(tokenRequests(world.sandbox).at(-1)?.reason, "expired");
  });

  it("maps a bound certificate from a CA the bank does not trust to INVALID_CLIENT_CERT", async () => {
    const foreign = await aClientCert({ ca: await aCa() });
    const { clientId, clientSecret } = world.sandbox.addCredential({ certificates: [foreign.certPem] });
    const error = await rejection(() => world.bank.requestToken(foreign, { clientId, clientSecret }));
    assertCoded(error, "INVALID_CLIENT_CERT");
    assert.equal(tokenRequests(world.sandbox).at(-1)?.reason, "untrusted_chain");
  });

  it("maps a source IP outside the allowlist to IP_NOT_ALLOWED without retrying", async () => {
    world.sandbox.setAllowedIps(world.clientId, ["10.0.0.0/8", "2001:db8::/32"]);
    const before = tokenRequests(world.sandbox).length;
    try {
      assertCoded(await rejection(() => world.bank.requestToken(world.client, creds())), "IP_NOT_ALLOWED");
      assert.equal(tokenRequests(world.sandbox).length - before, 1, "exactly one request");
    } finally {
      world.sandbox.setAllowedIps(world.clientId, ["127.0.0.1"]);
    }
    await world.bank.requestToken(world.client, creds());
  });

  it("refuses a key that does not belong to the certificate before connecting, as KEY_MISMATCH", async () => {
    const other = await aClientCert({ ca: world.ca });
    const error = await rejection(() =>
      world.bank.requestToken({ certPem: world.client.certPem, keyPem: other.keyPem }, creds()),
    );
    assertCoded(error, "KEY_MISMATCH");
  });

  it("answers a malformed body, a missing field and another grant type with 400 (BANK_BAD_REQUEST)", async () => {
    const bodies = [
      { text: "{not json", description: "request body is not valid JSON" },
      {
        text: JSON.stringify({ client_id: world.clientId, grant_type: "client_credentials" }),
        description: 'missing field "client_secret"',
      },
      {
        text: JSON.stringify({
          client_id: world.clientId,
          client_secret: world.clientSecret,
          grant_type: "password",
        }),
        description: 'grant_type must be "client_credentials"',
      },
    ];
    for (const { text, description } of bodies) {
      const answer = await rawTokenPost(world, text);
      assert.equal(answer.status, 400);
      assert.equal((answer.json as { error_description: string }).error_description, description);
      assertCoded(tokenAnswerError(answer, `POST ${TOKEN_PATH}`), "BANK_BAD_REQUEST");
    }
  });
});

describe("TLS version and trust", () => {
  it("fails a TLS 1.3-only client against a TLS 1.2-only bank with TLS_HANDSHAKE_FAILED, without retrying", async () => {
    const world = await bankWorld({
      sandbox: { tlsMaxVersion: "TLSv1.2" },
      config: { tls: { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" } },
    });
    try {
      const error = assertCoded(
        await rejection(() =>
          world.bank.requestToken(world.client, {
            clientId: world.clientId,
            clientSecret: world.clientSecret,
          }),
        ),
        "TLS_HANDSHAKE_FAILED",
      );
      assert.match(String(error.details["tlsReason"] ?? error.details["tlsError"]), /protocol version/i);
      const handshakeErrors = world.sandbox.logs.filter((entry) => entry.status === "tls_error");
      assert.equal(handshakeErrors.length, 1, "one attempt only");
      // The same bank accepts a client that allows TLS 1.2.
      const tls12 = createBankingApi(
        "tls12",
        bankConfig(world.sandbox, { tls: { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" } }),
        {
          caPem: world.sandbox.serverCaPem,
        },
      );
      await tls12.requestToken(world.client, { clientId: world.clientId, clientSecret: world.clientSecret });
    } finally {
      await world.stop();
    }
  });

  it("fails with TLS_HANDSHAKE_FAILED when the bank's server certificate is not from the pinned CA", async () => {
    const world = await bankWorld();
    try {
      const pinnedElsewhere = createBankingApi("wrong-pin", world.config, { caPem: (await aCa()).certPem });
      const error = await rejection(() =>
        pinnedElsewhere.requestToken(world.client, {
          clientId: world.clientId,
          clientSecret: world.clientSecret,
        }),
      );
      assertCoded(error, "TLS_HANDSHAKE_FAILED");
      assert.equal(tokenRequests(world.sandbox).length, 0, "no request was sent to an unverified server");
    } finally {
      await world.stop();
    }
  });

  it("reports a bank that refuses the client certificate inside the handshake as a TLS problem", async () => {
    // A strict bank (rejectUnauthorized: true) drops the connection instead of answering 401.
    const pki = await createSandboxPki("127.0.0.1", new Date());
    const trusted = await aCa();
    const foreign = await aClientCert({ ca: await aCa() });
    for (const maxVersion of ["TLSv1.2", "TLSv1.3"] as const) {
      const server = createServer({
        key: pki.serverKeyPem,
        cert: pki.serverCertPem,
        ca: trusted.certPem,
        requestCert: true,
        rejectUnauthorized: true,
        maxVersion,
      });
      server.on("request", (_req, res) => res.end("{}"));
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      try {
        const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const config = { ...bankConfig({ url, adminApiKey: "unused" }), retries: 1 };
        const strict = createBankingApi("strict", config, {
          caPem: pki.serverCaPem,
          retryDelay: { baseMs: 1, maxMs: 1 },
        });
        const error = await rejection(() =>
          strict.requestToken(foreign, { clientId: "a", clientSecret: "b" }),
        );
        if (maxVersion === "TLSv1.2") {
          assertCoded(error, "TLS_HANDSHAKE_FAILED");
        } else {
          // TLS 1.3: the server judges the client cert after the client's handshake is done; only the hint can tell.
          assertCoded(error, "BANK_UNAVAILABLE");
          assert.match((error as CertrotorError).hint ?? "", /refusing the client certificate/);
        }
      } finally {
        server.close();
        server.closeAllConnections();
      }
    }
  });

  it("accepts an IPv4 client on a dual-stack listener when its ::ffff:-mapped address is allowed as plain IPv4", async () => {
    const ca = await aCa();
    const client = await aClientCert({ ca });
    const sandbox = await startSandbox({ host: "::", clientCaPems: [ca.certPem] });
    try {
      const { clientId, clientSecret } = sandbox.addCredential({
        allowedIps: ["127.0.0.1"],
        certificates: [client.certPem],
      });
      const bank = createBankingApi(
        "dual",
        bankConfig(sandbox, { url: sandbox.url.replace("[::1]", "127.0.0.1") }),
        {
          caPem: sandbox.serverCaPem,
        },
      );
      await bank.requestToken(client, { clientId, clientSecret });
      assert.equal(tokenRequests(sandbox).at(-1)?.remoteAddress, "::ffff:127.0.0.1");
    } finally {
      await sandbox.stop();
    }
  });
});

/** A token POST with an arbitrary body, over the same mTLS the adapter uses (the adapter never sends these). */
function rawTokenPost(world: BankWorld, body: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(TOKEN_PATH, world.sandbox.url),
      {
        method: "POST",
        cert: world.client.certPem,
        key: world.client.keyPem,
        ca: world.sandbox.serverCaPem,
        headers: { "content-type": "application/json" },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString()),
            presentedCertDer: undefined,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
