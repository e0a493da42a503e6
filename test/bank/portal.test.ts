/**
 * Sandbox credential modes seen through the product's banking-api adapter and the portal routes: a
 * portal-only credential (the admin API refuses to bind or unbind, the portal does both), a single-slot
 * credential (a second active certificate refused, through either door), the portal's own key, and the
 * modes declared in a seed file.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { ADMIN_PREFIX, loadSeedFile, PORTAL_PREFIX, startSandbox } from "../../src/sandbox/index.js";
import { CertrotorError } from "../../src/errors.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { type BankWorld, bankConfig, bankWorld, rejection, sandboxCall } from "./helpers.js";

function assertCode(error: unknown, code: string): CertrotorError {
  assert.ok(error instanceof CertrotorError, `expected a CertrotorError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe("portal-only and single-slot credentials", () => {
  let world: BankWorld;
  before(async () => {
    world = await bankWorld();
  });
  after(() => world.stop());

  const portal = (method: string, path: string, body?: unknown) =>
    sandboxCall(world.sandbox, method, `${PORTAL_PREFIX}${path}`, { key: world.sandbox.portalApiKey, body });
  const bound = (clientId: string) =>
    world.sandbox.boundCertificates(clientId).map((b) => b.certificate.fingerprint);

  it("refuses the admin API's bind and unbind for a portal-only credential, naming why, and changes nothing", async () => {
    const { clientId } = world.sandbox.addCredential({
      portalOnly: true,
      certificates: [world.client.certPem],
    });
    const next = await aClientCert({ ca: world.ca });
    const bindError = assertCode(
      await rejection(() => world.bank.slots.bind(clientId, next.certPem)),
      "BANK_BAD_REQUEST",
    );
    assert.match(bindError.message, /422.*bound and unbound only in the bank's portal/);
    const unbindError = assertCode(
      await rejection(() => world.bank.slots.unbind(clientId, world.client.fingerprint)),
      "BANK_BAD_REQUEST",
    );
    assert.match(unbindError.message, /only in the bank's portal/);
    assert.deepEqual(bound(clientId), [world.client.fingerprint], "nothing changed at the bank");
    // Reading the slots still works: that is what a manual-registration rotation polls.
    assert.deepEqual(
      (await world.bank.slots.listSlots(clientId)).map((slot) => slot.fingerprint),
      [world.client.fingerprint],
    );
    const refusals = world.sandbox.logs.filter((entry) => entry.reason === "portal_only");
    assert.equal(refusals.length, 2);
  });

  it("binds through the portal for a portal-only credential, and the new certificate then gets a token", async () => {
    const { clientId, clientSecret } = world.sandbox.addCredential({ portalOnly: true });
    const next = await aClientCert({ ca: world.ca });
    const answer = await portal("POST", `/credentials/${clientId}/certificates`, { pem: next.certPem });
    assert.equal(answer.status, 201);
    assert.equal(answer.json["fingerprint"], next.fingerprint);
    assert.equal(
      (await portal("POST", `/credentials/${clientId}/certificates`, { pem: next.certPem })).status,
      200,
    );
    const token = await world.bank.verify(next, { clientId, clientSecret });
    assert.equal(token.boundToCert, true);

    const listed = await portal("GET", `/credentials/${clientId}/certificates`);
    assert.deepEqual(
      (listed.json["certificates"] as Array<{ fingerprint: string }>).map((c) => c.fingerprint),
      [next.fingerprint],
    );
    assert.equal(
      (await portal("DELETE", `/credentials/${clientId}/certificates/${next.fingerprint}`)).status,
      204,
    );
    assertCode(
      await rejection(() => world.bank.requestToken(next, { clientId, clientSecret })),
      "INVALID_CLIENT_CERT",
    );
    const again = await portal("DELETE", `/credentials/${clientId}/certificates/${next.fingerprint}`);
    assert.equal(again.status, 404);
    assert.equal(again.json["error"], "not_bound");
  });

  it("keeps the portal and admin keys apart: each door refuses the other's key", async () => {
    const path = `/credentials/${world.clientId}/certificates`;
    const withAdminKey = await sandboxCall(world.sandbox, "GET", `${PORTAL_PREFIX}${path}`, {
      key: world.sandbox.adminApiKey,
    });
    assert.equal(withAdminKey.status, 401);
    const withPortalKey = await sandboxCall(world.sandbox, "GET", `${ADMIN_PREFIX}${path}`, {
      key: world.sandbox.portalApiKey,
    });
    assert.equal(withPortalKey.status, 401);
    assert.notEqual(world.sandbox.portalApiKey, world.sandbox.adminApiKey);
  });

  it("refuses a second active certificate for a single-slot credential with SLOTS_FULL, through the admin API and the portal", async () => {
    const { clientId } = world.sandbox.addCredential({
      maxCertificates: 1,
      certificates: [world.client.certPem],
    });
    const single = createBankingApi("single", bankConfig(world.sandbox, { maxSlots: 1 }), {
      caPem: world.sandbox.serverCaPem,
    });
    try {
      const second = await aClientCert({ ca: world.ca });
      const error = assertCode(
        await rejection(() => single.slots.bind(clientId, second.certPem)),
        "SLOTS_FULL",
      );
      assert.match(error.message, /already has 1 active certificate at bank "single"/);
      const viaPortal = await portal("POST", `/credentials/${clientId}/certificates`, {
        pem: second.certPem,
      });
      assert.equal(viaPortal.status, 409);
      assert.match(String(viaPortal.json["error_description"]), /1 active certificate \(the limit\)/);
      assert.deepEqual(bound(clientId), [world.client.fingerprint], "nothing changed at the bank");

      // A cut-over: unbind the old one, then the new one fits.
      await single.slots.unbind(clientId, world.client.fingerprint);
      await single.slots.bind(clientId, second.certPem);
      assert.deepEqual(bound(clientId), [second.fingerprint]);
    } finally {
      await single.close();
    }
  });

  it("shows a credential's modes in its admin record", async () => {
    const { clientId } = world.sandbox.addCredential({
      portalOnly: true,
      maxCertificates: 1,
      trustCa: { subject: "CN=x, O=y, C=BR" },
    });
    const record = await sandboxCall(world.sandbox, "GET", `${ADMIN_PREFIX}/credentials/${clientId}`, {
      key: world.sandbox.adminApiKey,
    });
    assert.equal(record.json["portal_only"], true);
    assert.equal(record.json["max_certificates"], 1);
    assert.deepEqual(record.json["trust_ca"], { subject: "CN=x,O=y,C=BR" });
  });
});

describe("credential modes in a seed file", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "certrotor-seed-modes-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (credentials: unknown[]): string => {
    const path = join(dir, `seed-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify({ credentials }));
    return path;
  };

  it("loads portal_only, max_certificates and trust_ca per credential", async () => {
    const path = write([
      { client_id: "portal", client_secret: "s-portal-123", portal_only: true, max_certificates: 1 },
      { client_id: "fit", client_secret: "s-fit-12345", trust_ca: { subject: "CN=fit,C=BR" } },
      { client_id: "plain", client_secret: "s-plain-1234" },
    ]);
    const seeds = await loadSeedFile(path);
    assert.deepEqual(
      seeds.map((seed) => [seed.clientId, seed.portalOnly, seed.maxCertificates, seed.trustCa?.subject]),
      [
        ["portal", true, 1, undefined],
        ["fit", undefined, undefined, "CN=fit,C=BR"],
        ["plain", undefined, undefined, undefined],
      ],
    );
    const sandbox = await startSandbox({ credentials: seeds });
    try {
      const record = await sandboxCall(sandbox, "GET", `${ADMIN_PREFIX}/credentials/plain`, {
        key: sandbox.adminApiKey,
      });
      assert.equal(record.json["portal_only"], false);
      assert.equal(record.json["max_certificates"], 2);
    } finally {
      await sandbox.stop();
    }
  });

  it("refuses max_certificates other than 1 or 2, and a second bound certificate on a single-slot seed, naming the credential", async () => {
    await assert.rejects(
      loadSeedFile(write([{ client_id: "x", client_secret: "s-x-123456", max_certificates: 3 }])),
      (error: unknown) =>
        error instanceof CertrotorError && /credentials\.0\.max_certificates/.test(error.message),
    );
    const ca = await aCa();
    const [a, b] = await Promise.all([aClientCert({ ca }), aClientCert({ ca })]);
    const seeds = await loadSeedFile(
      write([
        {
          client_id: "one",
          client_secret: "s-one-12345",
          max_certificates: 1,
          certificates: [a.certPem, b.certPem],
        },
      ]),
    );
    await assert.rejects(
      startSandbox({ credentials: seeds }),
      (error: unknown) =>
        error instanceof CertrotorError &&
        error.code === "CONFIG_INVALID" &&
        /sandbox seed credential "one": .*1 active certificate \(the limit\)/.test(error.message),
    );
  });
});
