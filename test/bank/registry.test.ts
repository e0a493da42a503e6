/**
 * The bank registry and the bank profile in config: one factory per kind (an unknown kind refused with
 * UNKNOWN_KIND), the slot API and CSR signing present exactly where the adapter has them and the schema
 * accepts `registration: api` exactly there, defaults per kind, and the refusals a user sees at load
 * time through the real CLI.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { requireSigner, requireSlots } from "../../src/bank/capabilities.js";
import { BANK_KINDS, createBank } from "../../src/bank/index.js";
import { parseConfig } from "../../src/config/load.js";
import { type BankConfig, bankSchema } from "../../src/config/schema.js";
import { CertrotorError } from "../../src/errors.js";
import { createIssuer } from "../../src/issuers/index.js";
import { certrotor } from "../fixtures/cli.js";

const URL = "https://bank.invalid";

/** A minimal valid config of each kind, as a user writes it. */
const minimal: Record<(typeof BANK_KINDS)[number], Record<string, unknown>> = {
  "banking-api": { kind: "banking-api", url: URL, adminApiKey: "k" },
  "oauth2-mtls": { kind: "oauth2-mtls", url: URL, tokenPath: "/oauth/token" },
};

function coded(fn: () => unknown, code: string): CertrotorError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CertrotorError, `expected a CertrotorError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe("bank registry", () => {
  it("builds an adapter for every kind the schema knows, and each reports its kind", async () => {
    assert.deepEqual([...BANK_KINDS].sort(), ["banking-api", "oauth2-mtls"]);
    for (const kind of BANK_KINDS) {
      const bank = createBank("b", bankSchema.parse(minimal[kind]));
      assert.equal(bank.kind, kind);
      assert.equal(bank.name, "b");
      await bank.close();
    }
  });

  it("refuses a kind it has no factory for with UNKNOWN_KIND naming the bank and the known kinds", () => {
    const config = { ...bankSchema.parse(minimal["banking-api"]), kind: "carrier-pigeon" };
    const error = coded(() => createBank("pigeons", config as unknown as BankConfig), "UNKNOWN_KIND");
    assert.match(error.message, /bank "pigeons" has kind "carrier-pigeon"/);
    assert.match(error.hint ?? "", /banking-api, oauth2-mtls/);
  });

  it("gives a slot API exactly to the kinds whose schema accepts registration: api", async () => {
    for (const kind of BANK_KINDS) {
      const bank = createBank("b", bankSchema.parse(minimal[kind]));
      const acceptsApi = bankSchema.safeParse({ ...minimal[kind], registration: "api" }).success;
      assert.equal(bank.slots !== undefined, acceptsApi, `${kind}: slot API ⇔ registration api`);
      await bank.close();
    }
  });

  it("answers a missing capability with NOT_SUPPORTED naming the bank and its kind", async () => {
    const bank = createBank("portal", bankSchema.parse(minimal["oauth2-mtls"]));
    assert.equal(bank.slots, undefined);
    assert.equal(bank.signer, undefined);
    const slots = coded(() => requireSlots(bank), "NOT_SUPPORTED");
    assert.match(slots.message, /bank "portal" \(kind oauth2-mtls\) has no slot API/);
    assert.match(slots.hint ?? "", /registration: manual/);
    coded(() => requireSigner(bank), "NOT_SUPPORTED");
    const full = createBank("main", bankSchema.parse(minimal["banking-api"]));
    assert.equal(requireSlots(full), full.slots);
    assert.equal(requireSigner(full), full.signer);
    await Promise.all([bank.close(), full.close()]);
  });

  it("refuses a bank issuer whose bank cannot sign CSRs, naming the issuer and the bank", async () => {
    const bank = createBank("portal", bankSchema.parse(minimal["oauth2-mtls"]));
    const context = { stores: new Map(), banks: new Map([["portal", bank]]) };
    await assert.rejects(
      createIssuer("bank-ca", { kind: "bank", bank: "portal" }, context),
      (error: unknown) =>
        error instanceof CertrotorError &&
        error.code === "CONFIG_INVALID" &&
        /issuers\.bank-ca\.bank: bank "portal" is of kind oauth2-mtls/.test(error.message),
    );
  });
});

describe("bank profile in config", () => {
  const parse = (bank: Record<string, unknown>) =>
    parseConfig(JSON.stringify({ banks: { b: bank } }), "certrotor.yaml", {}).banks["b"]!;

  it("defaults registration to api for banking-api and manual for oauth2-mtls, maxSlots to 2", () => {
    const api = parse(minimal["banking-api"]);
    assert.equal(api.registration, "api");
    assert.equal(api.maxSlots, 2);
    const oauth = parse(minimal["oauth2-mtls"]);
    assert.equal(oauth.registration, "manual");
    assert.equal(oauth.maxSlots, 2);
    assert.equal(oauth.kind === "oauth2-mtls" && oauth.clientAuth, "basic");
  });

  it("takes registration manual|none, maxSlots 1 and a portalUrl on either kind", () => {
    for (const kind of BANK_KINDS) {
      for (const registration of ["manual", "none"]) {
        const bank = parse({ ...minimal[kind], registration, maxSlots: 1, portalUrl: "https://portal.x" });
        assert.equal(bank.registration, registration);
        assert.equal(bank.maxSlots, 1);
        assert.equal(bank.portalUrl, "https://portal.x");
      }
    }
  });

  it("refuses registration: api for oauth2-mtls, saying which registrations fit and which kind has a slot API", () => {
    assert.throws(
      () => parse({ ...minimal["oauth2-mtls"], registration: "api" }),
      (error: unknown) =>
        error instanceof CertrotorError &&
        error.code === "CONFIG_INVALID" &&
        error.message.includes("banks.b.registration: kind oauth2-mtls has no slot API") &&
        error.message.includes('"manual"') &&
        error.message.includes("needs kind banking-api"),
    );
  });

  it("refuses maxSlots other than 1 or 2, a token path without a leading slash, and admin fields on oauth2-mtls", () => {
    const refused = (bank: Record<string, unknown>, fragment: string) =>
      assert.throws(
        () => parse(bank),
        (error: unknown) => error instanceof CertrotorError && error.message.includes(fragment),
      );
    refused({ ...minimal["banking-api"], maxSlots: 3 }, "banks.b.maxSlots");
    refused({ ...minimal["oauth2-mtls"], tokenPath: "oauth/token" }, "banks.b.tokenPath");
    refused({ ...minimal["oauth2-mtls"], adminApiKey: "k" }, "banks.b: unknown field adminApiKey");
    refused({ ...minimal["oauth2-mtls"], clientAuth: "jwt" }, "banks.b.clientAuth");
  });
});

describe("bank profile refusals through the CLI", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "certrotor-bank-profile-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (banks: string) => {
    const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, `state: file\nstateDir: ${join(dir, "state")}\nbanks:\n${banks}\n`);
    return certrotor("scan", "--config", path);
  };

  it("exits 64 with one line for registration: api on an oauth2-mtls bank", async () => {
    const result = await run(
      "  portal: { kind: oauth2-mtls, url: https://bank.invalid, tokenPath: /oauth/token, registration: api }",
    );
    assert.equal(result.code, 64, result.stderr);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0]!,
      /^certrotor: CONFIG_INVALID: .*banks\.portal\.registration: kind oauth2-mtls has no slot API/,
    );
  });

  it("exits 64 with one line for a bank kind certrotor does not know", async () => {
    const result = await run("  odd: { kind: carrier-pigeon, url: https://bank.invalid }");
    assert.equal(result.code, 64, result.stderr);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^certrotor: CONFIG_INVALID: .*banks\.odd/);
  });
});
