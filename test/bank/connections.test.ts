/**
 * Connections the adapter opens: admin calls share kept-alive connections (a scan lists the slots of every
 * credential), while every token call is a fresh mTLS handshake, so `verify` proves the new key itself and
 * not a session resumed from an earlier one. Counted by the sandbox's server.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type BankWorld, bankWorld } from "./helpers.js";

describe("bank connections", () => {
  let world: BankWorld;
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  before(async () => {
    world = await bankWorld();
    process.on("warning", onWarning);
  });
  after(async () => {
    process.off("warning", onWarning);
    await world.stop();
  });

  it("reuses kept-alive connections for admin calls", async () => {
    const from = world.sandbox.connections;
    const requests = world.sandbox.logs.length;
    for (let i = 0; i < 25; i++) assert.equal((await world.bank.slots.listSlots(world.clientId)).length, 1);
    assert.equal(world.sandbox.logs.length - requests, 25);
    const opened = world.sandbox.connections - from;
    assert.ok(opened >= 1 && opened <= 2, `25 sequential admin calls opened ${opened} connections`);
  });

  it("keeps admin calls in parallel within the agent's socket bound and reuses them after", async () => {
    const from = world.sandbox.connections;
    const all = await Promise.all(
      Array.from({ length: 40 }, () => world.bank.slots.listSlots(world.clientId)),
    );
    assert.ok(all.every((slots) => slots.length === 1));
    const opened = world.sandbox.connections - from;
    assert.ok(opened <= 16, `40 parallel admin calls opened ${opened} connections (bound 16)`);
    const before = world.sandbox.connections;
    await world.bank.slots.listSlots(world.clientId);
    assert.equal(world.sandbox.connections, before, "an idle kept-alive connection is reused");
  });

  it("makes a full mTLS handshake for every token call", async () => {
    const from = world.sandbox.connections;
    const credentials = { clientId: world.clientId, clientSecret: world.clientSecret };
    for (let i = 0; i < 5; i++) await world.bank.requestToken(world.client, credentials);
    assert.equal(world.sandbox.connections - from, 5);
  });

  it("adds no listener per request to a reused socket (no MaxListeners warning)", async () => {
    for (let i = 0; i < 30; i++) await world.bank.slots.listSlots(world.clientId);
    // a warning is emitted on the next tick after the listener that crosses the limit is added
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((w) => w.name),
      [],
    );
  });

  it("still retries a dropped admin connection on a kept-alive agent", async () => {
    await world.bank.slots.listSlots(world.clientId);
    world.sandbox.setFaults({ admin: { dropNext: 2 } });
    try {
      assert.equal((await world.bank.slots.listSlots(world.clientId)).length, 1);
    } finally {
      world.sandbox.setFaults({});
    }
    const last = world.sandbox.logs.slice(-3).map((entry) => entry.status);
    assert.deepEqual(last, ["dropped", "dropped", 200]);
  });
});
