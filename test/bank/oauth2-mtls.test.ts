/**
 * The oauth2-mtls adapter against the sandbox's standard token endpoint (POST /oauth/token) over real
 * mTLS: the RFC 6749 client_credentials call, form-encoded, with the client in HTTP Basic or in the body;
 * seed 001's error table (401 Invalid Credentials / Invalid Client Certificate, 403) mapped to the same
 * typed errors as banking-api; retries; the probe; and seed 002's trust-the-CA credential, at a TLS 1.2
 * only bank, accepted without any binding.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tokenAnswerError } from "../../src/bank/answers.js";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { createOauth2Mtls } from "../../src/bank/oauth2-mtls.js";
import type { HttpAnswer } from "../../src/bank/transport.js";
import type { BankClient } from "../../src/bank/types.js";
import type { Oauth2MtlsConfig } from "../../src/config/schema.js";
import { CertrotorError } from "../../src/errors.js";
import { loadSeedFile, type SandboxHandle, startSandbox } from "../../src/sandbox/index.js";
import { aCa, aClientCert, type ClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { bankConfig, capturingLogger, oauth2Config, rejection, tokenRequests } from "./helpers.js";

function assertCoded(error: unknown, code: string): CertrotorError {
  assert.ok(error instanceof CertrotorError, `expected a CertrotorError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.ok(error.hint && error.hint.length > 10, "a troubleshooting hint is attached");
  return error;
}

describe("oauth2-mtls token call against the sandbox", () => {
  let ca: PkiMaterial;
  let client: ClientCert;
  let sandbox: SandboxHandle;
  let clientId: string;
  let clientSecret: string;
  const logs = capturingLogger();
  const banks: BankClient[] = [];
  const bankWith = (overrides: Partial<Oauth2MtlsConfig> = {}): BankClient => {
    const bank = createOauth2Mtls("portal-bank", oauth2Config(sandbox, overrides), {
      caPem: sandbox.serverCaPem,
      logger: logs.logger,
      retryDelay: { baseMs: 5, maxMs: 20 },
    });
    banks.push(bank);
    return bank;
  };

  before(async () => {
    ca = await aCa();
    client = await aClientCert({ ca });
    sandbox = await startSandbox({ clientCaPems: [ca.certPem] });
    ({ clientId, clientSecret } = sandbox.addCredential({
      clientId: "portal-client",
      certificates: [client.certPem],
    }));
  });
  after(async () => {
    await Promise.all(banks.map((bank) => bank.close()));
    await sandbox.stop();
  });

  const creds = () => ({ clientId, clientSecret });
  const lastToken = () => tokenRequests(sandbox).at(-1)!;

  it("gets a Bearer token bound to the certificate, the client in HTTP Basic, the body form-encoded", async () => {
    const token = await bankWith().requestToken(client, creds());
    assert.equal(token.tokenType, "Bearer");
    assert.equal(token.expiresIn, 3600);
    assert.equal(token.boundToCert, true, "cnf.x5t#S256 matches the presented certificate");
    // The sandbox refuses any other content type on /oauth/token, so a 200 proves the form encoding.
    assert.deepEqual(
      { path: lastToken().path, status: lastToken().status, clientAuth: lastToken().clientAuth },
      { path: "/oauth/token", status: 200, clientAuth: "basic" },
    );
  });

  it("sends client_id and client_secret in the form body when clientAuth is body", async () => {
    await bankWith({ clientAuth: "body" }).requestToken(client, creds());
    assert.equal(lastToken().clientAuth, "body");
    assert.equal(lastToken().status, 200);
  });

  it("form-encodes the id and secret before HTTP Basic (RFC 6749 § 2.3.1), so any characters get through", async () => {
    const odd = sandbox.addCredential({
      clientId: "odd id:with+chars",
      clientSecret: "p:a+s s%w/ó&=?",
      certificates: [client.certPem],
    });
    for (const clientAuth of ["basic", "body"] as const) {
      const token = await bankWith({ clientAuth }).requestToken(client, odd);
      assert.equal(token.boundToCert, true, clientAuth);
    }
  });

  it("sends the configured scope and accepts a configured token path", async () => {
    const token = await bankWith({ scope: "boleto.read pix.write", tokenPath: "/oauth/token" }).requestToken(
      client,
      creds(),
    );
    assert.equal(token.tokenType, "Bearer");
  });

  it("maps a wrong client_secret to INVALID_CREDENTIALS (401 Invalid Credentials) and does not retry it", async () => {
    for (const clientAuth of ["basic", "body"] as const) {
      const before = tokenRequests(sandbox).length;
      const error = assertCoded(
        await rejection(() =>
          bankWith({ clientAuth }).requestToken(client, { clientId, clientSecret: "nope" }),
        ),
        "INVALID_CREDENTIALS",
      );
      assert.match(error.message, /POST \/oauth\/token: the bank answered 401 Invalid Credentials/);
      assert.equal(tokenRequests(sandbox).length - before, 1, `${clientAuth}: exactly one request`);
    }
  });

  it("maps a trusted certificate not bound to the credential to INVALID_CLIENT_CERT", async () => {
    const unbound = await aClientCert({ ca });
    assertCoded(await rejection(() => bankWith().requestToken(unbound, creds())), "INVALID_CLIENT_CERT");
    assert.equal(lastToken().reason, "cert_not_bound");
  });

  it("maps a bound certificate from a CA the bank does not trust to INVALID_CLIENT_CERT", async () => {
    const foreign = await aClientCert({ ca: await aCa() });
    const other = sandbox.addCredential({ certificates: [foreign.certPem] });
    assertCoded(await rejection(() => bankWith().requestToken(foreign, other)), "INVALID_CLIENT_CERT");
    assert.equal(lastToken().reason, "untrusted_chain");
  });

  it("maps a source IP outside the allowlist to IP_NOT_ALLOWED (403) without retrying", async () => {
    sandbox.setAllowedIps(clientId, ["10.0.0.0/8"]);
    const before = tokenRequests(sandbox).length;
    try {
      assertCoded(await rejection(() => bankWith().requestToken(client, creds())), "IP_NOT_ALLOWED");
      assert.equal(tokenRequests(sandbox).length - before, 1);
    } finally {
      sandbox.setAllowedIps(clientId, ["127.0.0.0/8", "::1"]);
    }
  });

  it("retries 503 answers from the token endpoint and then gets the token", async () => {
    const from = tokenRequests(sandbox).length;
    sandbox.setFaults({ token: { failNext: 2 } });
    try {
      await bankWith().requestToken(client, creds());
    } finally {
      sandbox.setFaults({});
    }
    assert.deepEqual(
      tokenRequests(sandbox)
        .slice(from)
        .map((entry) => entry.status),
      [503, 503, 200],
    );
  });

  it("makes the configured protected call in verify, over the same certificate as the token", async () => {
    const bank = bankWith({
      probe: { path: "/public/gw_banking/v1/accounts/{accountId}/balance", accountId: "123" },
    });
    await bank.verify(client, creds(), { probe: true });
    const probe = sandbox.logs.filter((entry) => entry.endpoint === "balance").at(-1);
    assert.equal(probe?.path, "/public/gw_banking/v1/accounts/123/balance");
    assert.equal(probe?.status, 200);
  });

  it("never writes the client secret or the token into its log lines or errors", async () => {
    const secret = "a-very-distinctive-secret-9f3b";
    const own = sandbox.addCredential({ clientSecret: secret, certificates: [client.certPem] });
    const token = await bankWith().requestToken(client, own);
    const error = await rejection(() =>
      bankWith().requestToken(client, { ...own, clientSecret: `${secret}x` }),
    );
    const written = [...logs.lines, String(error), JSON.stringify(error)].join("\n");
    assert.ok(
      logs.lines.some((line) => line.includes("token obtained")),
      "the adapter logged",
    );
    assert.ok(!written.includes(secret), "no client secret");
    assert.ok(!written.includes(token.accessToken), "no access token");
  });

  it("maps RFC 6749's 400 invalid_client (a client authenticated in the body) like seed 001's 401", () => {
    const answer = (status: number, json: unknown): HttpAnswer => ({
      status,
      json,
      presentedCertDer: undefined,
    });
    const what = "POST /oauth/token";
    assertCoded(tokenAnswerError(answer(400, { error: "invalid_client" }), what), "INVALID_CREDENTIALS");
    assertCoded(tokenAnswerError(answer(400, { error: "unauthorized_client" }), what), "INVALID_CREDENTIALS");
    assertCoded(
      tokenAnswerError(
        answer(400, { error: "invalid_client", error_description: "client certificate not registered" }),
        what,
      ),
      "INVALID_CLIENT_CERT",
    );
    assertCoded(tokenAnswerError(answer(400, { error: "invalid_scope" }), what), "BANK_BAD_REQUEST");
  });
});

describe("trust-the-CA credential (seed 002) at a TLS 1.2 only bank", () => {
  const SUBJECT = "CN=fitbank-client,O=Acme Pagamentos,C=BR";
  let ca: PkiMaterial;
  let sandbox: SandboxHandle;
  let bank: BankClient;
  const secret = "fit-secret-0123456789";

  before(async () => {
    ca = await aCa();
    sandbox = await startSandbox({
      clientCaPems: [ca.certPem],
      tlsMaxVersion: "TLSv1.2",
      credentials: [{ clientId: "fit", clientSecret: secret, trustCa: { subject: SUBJECT } }],
    });
    bank = createOauth2Mtls(
      "fitbank",
      oauth2Config(sandbox, { registration: "none", tls: { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" } }),
      { caPem: sandbox.serverCaPem },
    );
  });
  after(async () => {
    await bank.close();
    await sandbox.stop();
  });

  it("accepts any certificate from the trusted CA with the credential's subject, none of them bound", async () => {
    for (const _ of [1, 2]) {
      const fresh = await aClientCert({ ca, subject: SUBJECT });
      const token = await bank.verify(fresh, { clientId: "fit", clientSecret: secret });
      assert.equal(token.boundToCert, true);
    }
    assert.deepEqual(sandbox.boundCertificates("fit"), [], "nothing was bound");
  });

  it("refuses a certificate from the trusted CA with another subject as INVALID_CLIENT_CERT", async () => {
    const other = await aClientCert({ ca, subject: "CN=someone-else,O=Acme Pagamentos,C=BR" });
    assertCoded(
      await rejection(() => bank.requestToken(other, { clientId: "fit", clientSecret: secret })),
      "INVALID_CLIENT_CERT",
    );
    assert.equal(tokenRequests(sandbox).at(-1)?.reason, "cert_not_bound");
  });

  it("refuses the right subject from a CA the bank does not trust as INVALID_CLIENT_CERT", async () => {
    const forged = await aClientCert({ ca: await aCa(), subject: SUBJECT });
    assertCoded(
      await rejection(() => bank.requestToken(forged, { clientId: "fit", clientSecret: secret })),
      "INVALID_CLIENT_CERT",
    );
    assert.equal(tokenRequests(sandbox).at(-1)?.reason, "untrusted_chain");
  });

  it("enforces the same acceptance on seed 001's JSON token endpoint", async () => {
    const json = createBankingApi(
      "json",
      bankConfig(
        { url: sandbox.url, adminApiKey: sandbox.adminApiKey },
        {
          tls: { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" },
        },
      ),
      { caPem: sandbox.serverCaPem },
    );
    try {
      await json.requestToken(await aClientCert({ ca, subject: SUBJECT }), {
        clientId: "fit",
        clientSecret: secret,
      });
      const other = await aClientCert({ ca });
      assertCoded(
        await rejection(() => json.requestToken(other, { clientId: "fit", clientSecret: secret })),
        "INVALID_CLIENT_CERT",
      );
    } finally {
      await json.close();
    }
  });

  it("reads the mode from a seed file, the subject written with spaces as people do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "certrotor-trust-seed-"));
    try {
      const path = join(dir, "seed.json");
      const seed = {
        client_id: "fit2",
        client_secret: secret,
        trust_ca: { subject: "CN=fit2, O=Acme, C=BR" },
      };
      writeFileSync(path, JSON.stringify({ credentials: [seed] }));
      const seeded = await startSandbox({
        clientCaPems: [ca.certPem],
        credentials: await loadSeedFile(path),
      });
      const seededBank = createOauth2Mtls("seeded", oauth2Config(seeded), { caPem: seeded.serverCaPem });
      try {
        const cert = await aClientCert({ ca, subject: "CN=fit2,O=Acme,C=BR" });
        await seededBank.requestToken(cert, { clientId: "fit2", clientSecret: secret });
      } finally {
        await seededBank.close();
        await seeded.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
