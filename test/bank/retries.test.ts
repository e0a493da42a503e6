/**
 * Retries with backoff against injected faults: what a retry can fix (5xx, dropped connections,
 * timeouts) is retried and succeeds; what it cannot (401, 403, 400) is tried once. Requests are counted
 * in the sandbox's own log.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { CertrotorError } from "../../src/errors.js";
import { type BankWorld, bankWorld, rejection, tokenRequests } from "./helpers.js";

describe("retries against injected faults", () => {
  let world: BankWorld;
  before(async () => {
    world = await bankWorld({ config: { retries: 3 } });
  });
  after(() => world.stop());
  beforeEach(() => world.sandbox.setFaults({}));

  const creds = () => ({ clientId: world.clientId, clientSecret: world.clientSecret });
  const newTokenRequests = (from: number) => tokenRequests(world.sandbox).slice(from);

  it("retries two 503 answers and then gets the token", async () => {
    const from = tokenRequests(world.sandbox).length;
    const warnings = world.logLines.length;
    world.sandbox.setFaults({ token: { failNext: 2 } });
    const token = await world.bank.requestToken(world.client, creds());
    assert.equal(token.tokenType, "Bearer");
    assert.deepEqual(
      newTokenRequests(from).map((entry) => entry.status),
      [503, 503, 200],
    );
    const retryLines = world.logLines.slice(warnings).filter((line) => line.includes("retrying"));
    assert.equal(retryLines.length, 2);
  });

  it("retries two dropped connections and then gets the token", async () => {
    const from = tokenRequests(world.sandbox).length;
    world.sandbox.setFaults({ token: { dropNext: 2 } });
    await world.bank.requestToken(world.client, creds());
    assert.deepEqual(
      newTokenRequests(from).map((entry) => entry.status),
      ["dropped", "dropped", 200],
    );
  });

  it("gives up with BANK_UNAVAILABLE (retryable) after the configured retries", async () => {
    const from = tokenRequests(world.sandbox).length;
    world.sandbox.setFaults({ token: { failNext: 100 } });
    const error = await rejection(() => world.bank.requestToken(world.client, creds()));
    assert.ok(error instanceof CertrotorError && error.code === "BANK_UNAVAILABLE");
    assert.equal(error.retryable, true);
    assert.equal(newTokenRequests(from).length, 4, "1 attempt + 3 retries");
  });

  it("retries admin calls on a seeded share of 5xx answers and dropped connections", async () => {
    world.sandbox.setFaults({ admin: { failRate: 0.2, dropRate: 0.1, seed: 42 } });
    for (let i = 0; i < 10; i++) {
      const slots = await world.bank.slots.listSlots(world.clientId);
      assert.equal(slots.length, 1);
    }
    const faulted = world.sandbox.logs.filter(
      (entry) => entry.endpoint === "admin" && entry.reason === "fault",
    );
    assert.ok(faulted.length > 0, "some admin requests were faulted");
  });

  it("does not retry a 401 or a 403 even while 5xx faults are configured for later requests", async () => {
    const from = tokenRequests(world.sandbox).length;
    await rejection(() => world.bank.requestToken(world.client, { ...creds(), clientSecret: "wrong" }));
    world.sandbox.setAllowedIps(world.clientId, ["192.0.2.1"]);
    try {
      await rejection(() => world.bank.requestToken(world.client, creds()));
    } finally {
      world.sandbox.setAllowedIps(world.clientId, ["127.0.0.1"]);
    }
    assert.deepEqual(
      newTokenRequests(from).map((entry) => entry.status),
      [401, 403],
    );
  });

  it("turns a bank that does not answer within requestTimeout into BANK_UNAVAILABLE", async () => {
    world.sandbox.setFaults({ token: { latencyMs: 2_000 } });
    const impatient = createBankingApi(
      "impatient",
      { ...world.config, requestTimeout: 100, retries: 0 },
      {
        caPem: world.sandbox.serverCaPem,
      },
    );
    const error = await rejection(() => impatient.requestToken(world.client, creds()));
    assert.ok(error instanceof CertrotorError && error.code === "BANK_UNAVAILABLE", String(error));
    assert.match(error.message, /timed out/);
  });
});
