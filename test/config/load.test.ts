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

describe("plain-text transports in the config", () => {
  const env = { VAULT_TOKEN: "t", BANK_KEY: "k" };
  const section = (yaml: string): string => `${VALID}${yaml}`;

  it("refuses http:// for Vault, the AWS endpoint, webhooks, Slack and PagerDuty unless the host is loopback or insecureHttp is set", () => {
    const text = section(`
alerts:
  channels:
    hook: { kind: webhook, url: "http://hooks.example.test/x", secret: "${"s".repeat(16)}" }
    slack: { kind: slack, url: "http://hooks.slack.example/x" }
    pd: { kind: pagerduty, routingKey: k, url: "http://events.pagerduty.example/v2/enqueue" }
`).replace("address: http://127.0.0.1:8200", "address: http://vault.internal:8200");
    const message = expectConfigError(text, env);
    for (const field of [
      "stores.vault1.address",
      "alerts.channels.hook.url",
      "alerts.channels.slack.url",
      "alerts.channels.pd.url",
    ])
      assert.ok(
        message.includes(`${field}: plain http:// to a host that is not loopback`),
        `${field} in ${message}`,
      );
    const aws = section("").replace(
      "stores:\n",
      'stores:\n  aws1: { kind: aws, region: us-east-1, endpoint: "http://localstack.internal:4566" }\n',
    );
    expectConfigError(aws, env, "stores.aws1.endpoint: plain http://");
  });

  it("accepts http:// to loopback hosts, and elsewhere only with insecureHttp: true", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"]) {
      const text = VALID.replace("http://127.0.0.1:8200", `http://${host}:8200`);
      assert.ok(parseConfig(text, "certrotor.yaml", env), host);
    }
    const text = VALID.replace(
      "address: http://127.0.0.1:8200",
      "address: http://vault.internal:8200\n    insecureHttp: true",
    );
    const config = parseConfig(text, "certrotor.yaml", env);
    assert.equal(config.stores.vault1?.kind === "vault" && config.stores.vault1.insecureHttp, true);
  });

  it("requires https:// for a bank, and refuses requireTLS: false for email without insecure: true", () => {
    expectConfigError(
      VALID.replace('url: "https://127.0.0.1:8443"', 'url: "http://127.0.0.1:8443"'),
      env,
      "banks.sandbox.url: expected an https:// URL",
    );
    const mail = (extra: string) =>
      `${VALID}alerts:\n  channels:\n    mail: { kind: email, host: smtp.example.test, from: a@b.c, to: [ops@b.c]${extra} }\n`;
    expectConfigError(
      mail(", requireTLS: false"),
      env,
      "alerts.channels.mail.requireTLS: false would send mail",
    );
    const insecure = parseConfig(mail(", requireTLS: false, insecure: true"), "certrotor.yaml", env);
    assert.equal(
      insecure.alerts.channels.mail?.kind === "email" && insecure.alerts.channels.mail.requireTLS,
      false,
    );
    const secure = parseConfig(mail(""), "certrotor.yaml", env);
    assert.equal(
      secure.alerts.channels.mail?.kind === "email" && secure.alerts.channels.mail.requireTLS,
      true,
    );
  });
});

describe("bounded and hostile YAML", () => {
  it("names the key and line of a duplicate key, and refuses an alias bomb and deep nesting as CONFIG_INVALID", () => {
    const dup = expectConfigError("stores:\n  main:\n    kind: file\n  main:\n    kind: file\n", {});
    assert.match(dup, /line 4, column 3: duplicate key "main" \(in stores\)/);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (const name of "bcdefgh") {
      const prev = String.fromCharCode(name.charCodeAt(0) - 1);
      bomb.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    expectConfigError(bomb.join("\n"), {}, "aliases (*name) expand to more than 100 nodes");
    expectConfigError(`a: ${"{x: ".repeat(100)}1${"}".repeat(100)}`, {}, "nested deeper than 64 levels");
    expectConfigError("a: *missing\n", {}, "YAML");
  });

  it("lists at most 20 problems, then how many more", () => {
    const many = `credentials:\n${Array.from({ length: 30 }, (_, i) => `  - { id: c${i} }\n`).join("")}`;
    const message = expectConfigError(many, {});
    assert.match(message, /; and \d+ more problems$/);
    assert.equal(message.split("; ").length, 21);
  });
});
