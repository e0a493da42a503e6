/**
 * Invariant 7 for the bank side: after successes, every kind of refusal, retries and local material
 * errors, no secret used (client_secret, access tokens, private key, PFX bytes and passphrase, admin
 * API key) appears in any error (message, hint, details, cause), adapter log line or sandbox log entry.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import type { TokenResult } from "../../src/bank/types.js";
import { buildPfx } from "../../src/crypto/index.js";
import { CertrotorError } from "../../src/errors.js";
import { aClientCert } from "../fixtures/pki.js";
import { type BankWorld, bankWorld } from "./helpers.js";

function errorTexts(error: unknown): string[] {
  if (!(error instanceof CertrotorError)) return [String(error)];
  const cause =
    error.cause instanceof Error ? `${error.cause.message} ${error.cause.stack ?? ""}` : String(error.cause);
  return [
    error.message,
    error.toSafeString(),
    JSON.stringify(error.toJSON()),
    JSON.stringify(error.details),
    error.stack ?? "",
    cause,
  ];
}

describe("no secret leaks from the bank adapter or the sandbox", () => {
  let world: BankWorld;
  const texts: string[] = [];
  const tokens: TokenResult[] = [];
  const passphrase = "pfx-passphrase-Zq81";
  const wrongSecret = "wrong-secret-Xy77";
  let pfx: Buffer;

  const attempt = async (fn: () => Promise<unknown>): Promise<void> => {
    try {
      const result = await fn();
      if (result && typeof result === "object" && "certThumbprint" in result)
        tokens.push(result as TokenResult);
      texts.push(JSON.stringify(result ?? null));
    } catch (error) {
      texts.push(...errorTexts(error));
    }
  };

  before(async () => {
    world = await bankWorld({ config: { probe: { accountId: "123" }, retries: 2 } });
    pfx = buildPfx({ ...world.client, chainPem: world.ca.certPem, passphrase });
    const creds = { clientId: world.clientId, clientSecret: world.clientSecret };
    const { bank, sandbox, client } = world;

    await attempt(() => bank.verify(client, creds, { probe: true }));
    await attempt(() => bank.requestToken({ pfx, passphrase }, creds));
    await attempt(() => bank.requestToken({ pfx, passphrase: "not-it" }, creds));
    await attempt(() => bank.requestToken(client, { ...creds, clientSecret: wrongSecret }));
    await attempt(async () => bank.requestToken(await aClientCert({ ca: world.ca }), creds));
    sandbox.setAllowedIps(world.clientId, ["192.0.2.0/24"]);
    await attempt(() => bank.requestToken(client, creds));
    sandbox.setAllowedIps(world.clientId, ["127.0.0.1"]);
    sandbox.setFaults({ token: { failNext: 1, dropNext: 1 }, admin: { failNext: 5 } });
    await attempt(() => bank.requestToken(client, creds));
    await attempt(() => bank.slots.listSlots(world.clientId));
    sandbox.setFaults({});
    await attempt(async () => bank.slots.bind(world.clientId, (await aClientCert({ ca: world.ca })).certPem));
    await attempt(async () => bank.slots.bind(world.clientId, (await aClientCert({ ca: world.ca })).certPem));
    const wrongAdmin = createBankingApi(
      "x",
      { ...world.config, adminApiKey: "admin-key-wrong-Qp3" },
      { caPem: sandbox.serverCaPem },
    );
    await attempt(() => wrongAdmin.slots.listSlots(world.clientId));
    const tls13 = createBankingApi(
      "y",
      { ...world.config, tls: { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" } },
      {
        caPem: sandbox.serverCaPem,
      },
    );
    await attempt(() => tls13.requestToken({ pfx, passphrase }, creds));
    const other = await aClientCert({ ca: world.ca });
    await attempt(() => bank.requestToken({ certPem: client.certPem, keyPem: other.keyPem }, creds));
    if (tokens[0]) await attempt(() => bank.probe(tokens[0]!, other, "123"));
  });
  after(() => world.stop());

  it("exercised successes and refusals", () => {
    assert.ok(tokens.length >= 2, "tokens were obtained");
    assert.ok(texts.some((text) => text.includes("INVALID_CREDENTIALS")));
    assert.ok(texts.some((text) => text.includes("IP_NOT_ALLOWED")));
    assert.ok(texts.some((text) => text.includes("PFX_BAD_PASSPHRASE")));
    assert.ok(world.logLines.some((line) => line.includes("retrying")));
  });

  it("finds zero secrets in errors, adapter logs and sandbox logs", () => {
    const keyBody = (pem: string) => pem.split("\n").filter((line) => line && !line.startsWith("-----"))[1]!;
    const secrets: Record<string, string> = {
      clientSecret: world.clientSecret,
      wrongSecret,
      adminApiKey: world.sandbox.adminApiKey,
      wrongAdminKey: "admin-key-wrong-Qp3",
      passphrase,
      privateKeyLine: keyBody(world.client.keyPem),
      pfxBytes: pfx.toString("base64").slice(200, 260),
      ...Object.fromEntries(tokens.map((token, i) => [`accessToken${i}`, token.accessToken])),
      ...Object.fromEntries(
        tokens.map((token, i) => [`accessTokenSignature${i}`, token.accessToken.split(".")[2]!]),
      ),
    };
    for (const [name, secret] of Object.entries(secrets))
      assert.ok(secret && secret.length >= 16, `${name} is a real needle`);
    const haystacks = {
      errors: texts.join("\n"),
      adapterLogs: world.logLines.join("\n"),
      sandboxLogs: JSON.stringify(world.sandbox.logs),
    };
    const hits: string[] = [];
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [name, secret] of Object.entries(secrets))
        if (text.includes(secret)) hits.push(`${name} in ${where}`);
    }
    assert.deepEqual(hits, []);
  });
});
