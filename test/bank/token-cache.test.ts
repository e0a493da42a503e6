/**
 * The token cache against the real sandbox: reuse until shortly before expiry (injected clock), one
 * in-flight fetch shared by concurrent callers, failures not cached.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TokenCache } from "../../src/bank/token-cache.js";
import { type BankWorld, bankWorld, rejection, tokenRequests } from "./helpers.js";

describe("token cache", () => {
  let world: BankWorld;
  before(async () => {
    world = await bankWorld({ sandbox: { tokenTtlSeconds: 600 } });
  });
  after(() => world.stop());

  const fetchToken = () =>
    world.bank.requestToken(world.client, { clientId: world.clientId, clientSecret: world.clientSecret });

  it("shares one fetch among concurrent callers and reuses the token until the skew before expiry", async () => {
    let now = 1_000_000;
    const cache = new TokenCache({ skewMs: 60_000, now: () => now });
    const key = `${world.clientId}:${world.client.fingerprint}`;
    const from = tokenRequests(world.sandbox).length;

    const tokens = await Promise.all(Array.from({ length: 5 }, () => cache.get(key, fetchToken)));
    assert.equal(tokenRequests(world.sandbox).length - from, 1, "one request for five callers");
    assert.ok(tokens.every((token) => token === tokens[0]));

    now += 539_000; // 600 s lifetime - 60 s skew - 1 s
    assert.equal(await cache.get(key, fetchToken), tokens[0]);
    assert.equal(tokenRequests(world.sandbox).length - from, 1, "still reused");

    now += 1_000; // reached the renewal point
    const renewed = await cache.get(key, fetchToken);
    assert.notEqual(renewed.accessToken, tokens[0]!.accessToken);
    assert.equal(tokenRequests(world.sandbox).length - from, 2);
  });

  it("does not cache a failed fetch: the next caller fetches again", async () => {
    const cache = new TokenCache();
    const from = tokenRequests(world.sandbox).length;
    const wrong = () =>
      world.bank.requestToken(world.client, { clientId: world.clientId, clientSecret: "wrong-secret" });
    await rejection(() => cache.get("k", wrong));
    await cache.get("k", fetchToken);
    assert.equal(tokenRequests(world.sandbox).length - from, 2);
  });

  it("keeps tokens of different certificates apart", async () => {
    const cache = new TokenCache();
    const a = await cache.get("client:cert-a", fetchToken);
    const b = await cache.get("client:cert-b", fetchToken);
    assert.notEqual(a, b);
    cache.invalidate("client:cert-a");
    assert.notEqual(await cache.get("client:cert-a", fetchToken), a);
  });
});
