import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/load.js";
import { isCertrotorError } from "../../src/errors.js";

const VALID = `
stores:
  main: { kind: file, dir: /tmp/x }
  vault1:
    kind: vault
    address: http://127.0.0.1:8200
    auth: { method: token, token: "\${VAULT_TOKEN}" }
banks:
  sandbox: { kind: banking-api, url: "https://127.0.0.1:8443", adminApiKey: "\${BANK_KEY}" }
issuers:
  own-ca: { kind: local-ca, store: main, path: ca/own }
credentials:
  - { id: acme, clientId: acme-client, bank: sandbox, store: main, issuer: own-ca }
  - { id: beta, clientId: beta-client, bank: sandbox, store: vault1, issuer: own-ca, keyType: p256,
      renewal: { renewBefore: 30d } }
`;

function expectConfigError(text: string, env: NodeJS.ProcessEnv, ...fragments: string[]): string {
  try {
    parseConfig(text, "certrotor.yaml", env);
  } catch (error) {
    assert.ok(isCertrotorError(error), "a CertrotorError");
    for (const fragment of fragments)
      assert.ok(error.message.includes(fragment), `${error.message} ∌ ${fragment}`);
    return error.message;
  }
  assert.fail("expected the config to be refused");
}

describe("config loading", () => {
  it("parses a valid file, fills defaults, interpolates env vars and freezes the result", () => {
    const config = parseConfig(VALID, "certrotor.yaml", { VAULT_TOKEN: "hvs.x", BANK_KEY: "k" });
    assert.equal(config.credentials[0]!.keyType, "rsa2048");
    assert.equal(config.credentials[1]!.renewal?.renewBefore, 30 * 86_400_000);
    assert.equal(config.renewal.renewAtFraction, 2 / 3);
    const vault = config.stores["vault1"];
    assert.ok(vault?.kind === "vault" && vault.auth.method === "token" && vault.auth.token === "hvs.x");
    assert.ok(Object.isFrozen(config.credentials[0]));
  });

  it("names the exact path and the allowed values of a bad enum", () => {
    const text = VALID.replace("keyType: p256", "keyType: rsa1024");
    const message = expectConfigError(text, { VAULT_TOKEN: "t", BANK_KEY: "k" });
    assert.match(message, /credentials\[1\]\.keyType: expected one of rsa2048, rsa3072, rsa4096, p256, p384/);
  });

  it("reports every problem at once, including dangling references", () => {
    const text = VALID.replace("issuer: own-ca }", "issuer: nope }").replace(
      "renewBefore: 30d",
      "renewBefore: soon",
    );
    expectConfigError(
      text,
      { VAULT_TOKEN: "t", BANK_KEY: "k" },
      "credentials[1].renewal.renewBefore",
      'expected a duration like "90s"',
    );
    expectConfigError(
      VALID.replace("issuer: own-ca }", "issuer: nope }"),
      { VAULT_TOKEN: "t", BANK_KEY: "k" },
      'credentials[0].issuer: no issuer named "nope"',
    );
  });

  it("refuses a missing environment variable by name without printing other values", () => {
    const message = expectConfigError(
      VALID,
      { BANK_KEY: "super-secret-admin-key" },
      "VAULT_TOKEN",
      "stores.vault1.auth.token",
    );
    assert.ok(!message.includes("super-secret-admin-key"));
  });

  it("refuses unknown fields and YAML syntax errors", () => {
    expectConfigError(`${VALID}\nbogus: 1\n`, { VAULT_TOKEN: "t", BANK_KEY: "k" }, "unknown field bogus");
    expectConfigError("stores: [\n", {}, "certrotor.yaml: line 2, column 1: YAML");
  });
});

describe("cron patterns in the config", () => {
  it("refuses a bad schedule or window at load time, naming where", () => {
    const text = `${VALID}\nschedules: { scan: "61 * * * *" }\nrenewal: { window: { cron: "* 9-17 * * MON-FRX" } }\n`;
    expectConfigError(text, { VAULT_TOKEN: "t", BANK_KEY: "k" }, "schedules.scan", "renewal.window.cron");
  });

  it("accepts a seconds-field schedule and a windowed time zone", () => {
    const text = `${VALID}\nschedules: { scan: "*/5 * * * * *" }\nrenewal: { window: { cron: "* 9-16 * * 1-5", timezone: America/Sao_Paulo } }\n`;
    const config = parseConfig(text, "certrotor.yaml", { VAULT_TOKEN: "t", BANK_KEY: "k" });
    assert.equal(config.schedules.scan, "*/5 * * * * *");
  });
});
