/**
 * The CORE admin API through the adapter: certificate slots (at most 2 active per credential, seed
 * 001), idempotent bind/unbind, lastUsedAt, bank-signed CSRs (seed 000) and the admin key.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { ADMIN_PREFIX } from "../../src/sandbox/index.js";
import { createCsr, generateKeyPair, inspectCertificate, verifyChain } from "../../src/crypto/index.js";
import { CertrotorError } from "../../src/errors.js";
import { aClientCert } from "../fixtures/pki.js";
import { type BankWorld, bankWorld, rejection, sandboxCall } from "./helpers.js";

function assertCode(error: unknown, code: string): void {
  assert.ok(error instanceof CertrotorError, `expected a CertrotorError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
}

describe("certificate slots through the admin API", () => {
  let world: BankWorld;
  let clock: Date;
  before(async () => {
    clock = new Date();
    world = await bankWorld({ sandbox: { now: () => clock } });
  });
  after(() => world.stop());

  it("lists the bound certificate with its fingerprint, subject and dates", async () => {
    const slots = await world.bank.slots.listSlots(world.clientId);
    assert.equal(slots.length, 1);
    const [slot] = slots;
    assert.equal(slot!.fingerprint, world.client.fingerprint);
    assert.equal(slot!.subject, inspectCertificate(world.client.certPem).subject);
    assert.equal(slot!.notAfter.getTime(), world.client.notAfter.getTime());
    assert.ok(slot!.boundAt instanceof Date);
  });

  it("records lastUsedAt on the binding that obtained a token, at the bank's clock", async () => {
    const { clientId, clientSecret } = world.sandbox.addCredential({ certificates: [world.client.certPem] });
    assert.equal((await world.bank.slots.listSlots(clientId))[0]!.lastUsedAt, undefined, "never used yet");
    clock = new Date(clock.getTime() + 60_000);
    await world.bank.requestToken(world.client, { clientId, clientSecret });
    const [slot] = await world.bank.slots.listSlots(clientId);
    assert.equal(slot!.lastUsedAt?.getTime(), clock.getTime());
  });

  it("binds a second certificate, treats binding it again as success, and refuses a third with SLOTS_FULL", async () => {
    const { clientId } = world.sandbox.addCredential({ certificates: [world.client.certPem] });
    const second = await aClientCert({ ca: world.ca });
    const bound = await world.bank.slots.bind(clientId, second.certPem);
    assert.equal(bound.fingerprint, second.fingerprint);
    const again = await world.bank.slots.bind(clientId, second.certPem);
    assert.equal(again.id, bound.id, "the same binding");
    assert.equal((await world.bank.slots.listSlots(clientId)).length, 2);

    const third = await aClientCert({ ca: world.ca });
    const error = await rejection(() => world.bank.slots.bind(clientId, third.certPem));
    assertCode(error, "SLOTS_FULL");
    assert.equal(world.sandbox.boundCertificates(clientId).length, 2, "nothing changed at the bank");
  });

  it("unbinds by fingerprint and treats unbinding an absent certificate as success", async () => {
    const second = await aClientCert({ ca: world.ca });
    const { clientId } = world.sandbox.addCredential({
      certificates: [world.client.certPem, second.certPem],
    });
    await world.bank.slots.unbind(clientId, second.fingerprint);
    await world.bank.slots.unbind(clientId, second.fingerprint);
    const fingerprints = (await world.bank.slots.listSlots(clientId)).map((slot) => slot.fingerprint);
    assert.deepEqual(fingerprints, [world.client.fingerprint]);
  });

  it("refuses slot calls for a credential the bank does not have with BANK_BAD_REQUEST", async () => {
    assertCode(await rejection(() => world.bank.slots.listSlots("no-such-credential")), "BANK_BAD_REQUEST");
    assertCode(
      await rejection(() => world.bank.slots.unbind("no-such-credential", "ab".repeat(32))),
      "BANK_BAD_REQUEST",
    );
  });

  it("refuses a wrong admin API key with BANK_ADMIN_UNAUTHORIZED and does not retry it", async () => {
    const wrongKey = createBankingApi(
      "sandbox",
      { ...world.config, adminApiKey: "wrong-key" },
      {
        caPem: world.sandbox.serverCaPem,
      },
    );
    const before = world.sandbox.logs.length;
    const error = await rejection(() => wrongKey.slots.listSlots(world.clientId));
    assertCode(error, "BANK_ADMIN_UNAUTHORIZED");
    assert.ok(!(error as Error).message.includes("wrong-key"), "the key is not echoed");
    assert.equal(world.sandbox.logs.length - before, 1);
  });

  it("answers bad admin input with 400 and a message naming the field", async () => {
    const answer = await adminCall(world, "POST", "/credentials", { allowed_ips: ["300.1.2.3"] });
    assert.equal(answer.status, 400);
    assert.match(String(answer.json["error_description"]), /allowed_ips\[0\]/);
    const bind = await adminCall(world, "POST", `/credentials/${world.clientId}/certificates`, {});
    assert.equal(bind.status, 400);
    assert.match(String(bind.json["error_description"]), /certificate_id.*fingerprint/);
  });

  it("creates a credential whose client_secret is shown once and never again", async () => {
    const created = await adminCall(world, "POST", "/credentials", {
      client_id: "fresh-one",
      allowed_ips: ["127.0.0.1"],
    });
    assert.equal(created.status, 201);
    assert.equal(typeof created.json["client_secret"], "string");
    const read = await adminCall(world, "GET", "/credentials/fresh-one");
    assert.equal(read.status, 200);
    assert.equal(read.json["client_secret"], undefined);
  });
});

describe("bank-signed certificates (seed 000)", () => {
  let world: BankWorld;
  before(async () => {
    world = await bankWorld();
  });
  after(() => world.stop());

  it("returns the same certificate for the same idempotency key, chained to the bank's CA, usable for a token", async () => {
    const { keyPem } = await generateKeyPair("p256");
    const csrPem = await createCsr({ keyPem, subject: "CN=acme-payments,O=Acme,C=BR" });
    const first = await world.bank.signer.signCsr(csrPem, { idempotencyKey: "rotation-1-abc" });
    const second = await world.bank.signer.signCsr(csrPem, { idempotencyKey: "rotation-1-abc" });
    assert.equal(second.certPem, first.certPem);
    assert.equal(first.chainPem, world.sandbox.bankCaPem);
    verifyChain(first.certPem, undefined, first.chainPem);
    assert.equal(inspectCertificate(first.certPem).subject, "CN=acme-payments,O=Acme,C=BR");

    const third = await world.bank.signer.signCsr(csrPem, { idempotencyKey: "rotation-2-def" });
    assert.notEqual(third.certPem, first.certPem, "a new key gets a new certificate");

    const { clientId, clientSecret } = world.sandbox.addCredential({});
    await world.bank.slots.bind(clientId, first.certPem);
    const token = await world.bank.requestToken(
      { certPem: first.certPem, keyPem },
      { clientId, clientSecret },
    );
    assert.equal(token.boundToCert, true);
  });

  it("refuses another CSR under a used idempotency key with BANK_BAD_REQUEST", async () => {
    const csr = async () =>
      createCsr({ keyPem: (await generateKeyPair("p256")).keyPem, subject: "CN=x,C=BR" });
    await world.bank.signer.signCsr(await csr(), { idempotencyKey: "reused-key" });
    assertCode(
      await rejection(async () => world.bank.signer.signCsr(await csr(), { idempotencyKey: "reused-key" })),
      "BANK_BAD_REQUEST",
    );
  });

  it("refuses text that is not a CSR with BANK_BAD_REQUEST naming the csr field", async () => {
    const error = await rejection(() => world.bank.signer.signCsr("not a csr", { idempotencyKey: "k-bad" }));
    assertCode(error, "BANK_BAD_REQUEST");
    assert.match((error as Error).message, /csr/);
  });
});

/** A raw admin call (for routes the adapter does not use). */
function adminCall(world: BankWorld, method: string, path: string, body?: unknown) {
  return sandboxCall(world.sandbox, method, `${ADMIN_PREFIX}${path}`, {
    key: world.sandbox.adminApiKey,
    body,
  });
}
