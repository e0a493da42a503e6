/**
 * The operator commands through the real CLI on one file-store world: `export` (public parts, or the key
 * and a PKCS#12 with mode 0600; a non-empty directory refused), `rotate --dry-run` (store, bank bindings
 * and state dir byte for byte unchanged), and `rollback` (refused with nothing changed while there is no
 * previous material; after a promote it restores the previous certificate as current and binds it again
 * at the bank, audited as rolled-back by the operator; a second rollback is refused; at a single-slot bank
 * it cuts over, and at a manual-registration bank it goes on only while the previous certificate is still
 * bound there).
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { createBank } from "../../src/bank/index.js";
import type { Config } from "../../src/config/schema.js";
import { fingerprintOf, readPfx } from "../../src/crypto/index.js";
import { certrotor, certrotorWith } from "../fixtures/cli.js";
import { aClientCert, type ClientCert } from "../fixtures/pki.js";
import { assertRefused, installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld, withWorldFileStore } from "../fixtures/world.js";

const BAD_INPUT = 64;

interface AuditLine {
  action: string;
  actor: string;
  details?: Record<string, unknown>;
}

describe("certrotor export, rotate --dry-run and rollback", () => {
  let world: TestWorld;
  let config: string;
  /** Credentials at a single-slot bank and at a manual-registration (portal) bank, brought in by import. */
  const banks: Record<string, { clientId: string; clientSecret: string }> = {};

  const currentFingerprint = (): Promise<string> =>
    withWorldFileStore(world, async (store) => {
      return (await store.readCurrent({ credentialId: "cred-0", path: "certrotor/cred-0" })).material
        .fingerprint;
    });
  const bound = (): string[] =>
    world.sandbox
      .boundCertificates(world.credentials[0]!.clientId)
      .map((b) => b.certificate.fingerprint)
      .sort();
  const mode = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8);

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    config = join(world.dir, "certrotor.yaml");
    const edited = structuredClone(world.config) as Config;
    const sandboxBank = edited.banks.sandbox!;
    edited.banks.single = { ...sandboxBank, maxSlots: 1 } as Config["banks"][string];
    edited.banks.portal = {
      kind: "oauth2-mtls",
      url: world.sandbox.url,
      caFile: (sandboxBank as { caFile: string }).caFile,
      tokenPath: "/oauth/token",
      registration: "manual",
    } as Config["banks"][string];
    banks["single-0"] = world.sandbox.addCredential({ maxCertificates: 1 });
    banks["portal-0"] = world.sandbox.addCredential({ portalOnly: true });
    banks["portal-1"] = world.sandbox.addCredential({ portalOnly: true });
    for (const id of Object.keys(banks)) {
      edited.credentials.push({
        ...edited.credentials[0]!,
        id,
        clientId: banks[id]!.clientId,
        bank: id.startsWith("single") ? "single" : "portal",
        path: `onboard/${id}`,
      });
    }
    await writeFile(config, stringify(edited));
    const status = await certrotor("status", "cred-0", "--config", config);
    assert.equal(status.code, 0, status.stderr);
  });
  after(() => world.stop());

  it("exports the public parts by default and the key and PKCS#12 with mode 0600 only when asked", async () => {
    const publicDir = join(world.dir, "export-public");
    const keyDir = join(world.dir, "export-key");
    const [pub, withKey] = await Promise.all([
      certrotor("export", "cred-0", "--out", publicDir, "--config", config),
      certrotor("export", "cred-0", "--out", keyDir, "--include-key", "--config", config),
    ]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(withKey.code, 0, withKey.stderr);
    const fingerprint = world.credentials[0]!.fingerprint;
    assert.deepEqual((await readdir(publicDir)).sort(), ["cert.pem", "chain.pem", "summary.json"]);
    assert.equal(fingerprintOf(await readFile(join(publicDir, "cert.pem"), "utf8")), fingerprint);
    assert.equal(await readFile(join(publicDir, "chain.pem"), "utf8"), world.ca.certPem);
    const summary = JSON.parse(await readFile(join(publicDir, "summary.json"), "utf8"));
    assert.equal(summary.fingerprint, fingerprint);
    assert.equal(summary.clientId, world.credentials[0]!.clientId);
    assert.match(summary.notAfter, /^\d{4}-\d\d-\d\dT/);
    assert.ok(!JSON.stringify(summary).includes(world.credentials[0]!.clientSecret), "no client secret");
    assert.equal(await mode(publicDir), "700");
    assert.equal(await mode(join(publicDir, "cert.pem")), "644");

    const files = (await readdir(keyDir)).sort();
    assert.deepEqual(files, [
      "cert.pem",
      "chain.pem",
      "credential.p12",
      "credential.p12.passphrase",
      "key.pem",
      "summary.json",
    ]);
    for (const secret of ["key.pem", "credential.p12", "credential.p12.passphrase"])
      assert.equal(await mode(join(keyDir, secret)), "600", secret);
    const passphrase = (await readFile(join(keyDir, "credential.p12.passphrase"), "utf8")).trim();
    const pfx = readPfx(await readFile(join(keyDir, "credential.p12")), passphrase);
    assert.equal(fingerprintOf(pfx.certPem), fingerprint);
    assert.equal(pfx.keyPem, await readFile(join(keyDir, "key.pem"), "utf8"));
    assert.ok(!withKey.stdout.includes(passphrase), "the passphrase is not printed");

    const before = await readFile(join(publicDir, "summary.json"), "utf8");
    const refused = await certrotor("export", "cred-0", "--out", publicDir, "--config", config);
    assertRefused(refused, "OUT_DIR_NOT_EMPTY", BAD_INPUT, /--out .*export-public/, /--force/);
    assert.equal(await readFile(join(publicDir, "summary.json"), "utf8"), before);
    const forced = await certrotor("export", "cred-0", "--out", publicDir, "--force", "--config", config);
    assert.equal(forced.code, 0, forced.stderr);
  });

  it("rotate --dry-run prints every step and leaves store, bank and journal byte for byte unchanged", async () => {
    const snapshot = await installationSnapshot(world);
    const run = await certrotor("rotate", "cred-0", "--dry-run", "--config", config);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    for (const step of ["plan", "generate", "issue", "stage", "register", "verify", "promote", "retire"])
      assert.match(run.stdout, new RegExp(`^ {2}${step} +\\S`, "m"), step);
    assert.match(run.stdout, /CSR copies subject "CN=payments-0/);
    assert.match(run.stdout, /holds 1 certificate\(s\)/);
    assert.match(run.stdout, /would rotate/);
    assert.equal(await installationSnapshot(world), snapshot, "nothing changed");
  });

  it("refuses a rollback with no previous material, changing nothing", async () => {
    const snapshot = await installationSnapshot(world);
    const run = await certrotor("rollback", "cred-0", "--reason", "test", "--config", config);
    assertRefused(run, "NO_PREVIOUS", BAD_INPUT, /no previous material/);
    assert.equal(await installationSnapshot(world), snapshot, "nothing changed");
  });

  it("after a promote, rollback restores the previous certificate as current and binds it again", async () => {
    const old = world.credentials[0]!.fingerprint;
    const rotated = await certrotor("rotate", "cred-0", "--inline", "--config", config);
    assert.equal(rotated.code, 0, rotated.stdout + rotated.stderr);
    const rotatedTo = await currentFingerprint();
    assert.notEqual(rotatedTo, old);
    assert.deepEqual(bound(), [rotatedTo], "the rotation unbound the old certificate (grace period 0)");

    const run = await certrotor(
      "rollback",
      "cred-0",
      "--reason",
      "consumers fail on the new cert",
      "--operator",
      "ana",
      "--config",
      config,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /bound again, and a token call with it succeeded/);
    assert.equal(await currentFingerprint(), old, "the previous certificate is current again");
    assert.deepEqual(bound(), [old, rotatedTo].sort(), "bound again beside the one rolled away from");

    const status = await certrotor("status", "cred-0", "--history", "--json", "--config", config);
    assert.equal(status.code, 0, status.stderr);
    const history = JSON.parse(status.stdout).credentials[0].history as AuditLine[];
    const rolledBack = history.find((e) => e.action === "rolled-back" && e.actor === "operator");
    assert.ok(rolledBack, JSON.stringify(history));
    assert.equal(rolledBack.details?.operator, "ana");
    assert.equal(rolledBack.details?.fingerprint, old);
    assert.equal(rolledBack.details?.replaced, rotatedTo);
    assert.equal(rolledBack.details?.reason, "consumers fail on the new cert");

    const snapshot = await installationSnapshot(world);
    const again = await certrotor("rollback", "cred-0", "--reason", "again", "--config", config);
    assertRefused(again, "NO_PREVIOUS", BAD_INPUT, /put back by rollback-/);
    assert.equal(await installationSnapshot(world), snapshot, "nothing changed");
  });

  it("rolls back at a single-slot bank by cutting over, and at a manual bank only while the previous certificate is bound there", async () => {
    const certs: Record<string, { a: ClientCert; b: ClientCert }> = {};
    for (const id of Object.keys(banks))
      certs[id] = { a: await aClientCert({ ca: world.ca }), b: await aClientCert({ ca: world.ca }) };
    const importAs = async (id: string, cert: ClientCert, ...flags: string[]) => {
      const dir = join(world.dir, `${id}-${cert.fingerprint.slice(0, 8)}`);
      await writeFile(`${dir}.pem`, cert.certPem);
      await writeFile(`${dir}.key`, cert.keyPem);
      const run = await certrotorWith(
        { env: { SECRET: banks[id]!.clientSecret } },
        "import",
        id,
        "--cert",
        `${dir}.pem`,
        "--key",
        `${dir}.key`,
        "--client-secret-env",
        "SECRET",
        ...flags,
        "--config",
        config,
      );
      assert.equal(run.code, 0, `${id}: ${run.stdout}${run.stderr}`);
    };
    const sandboxBank = createBank("sandbox", world.config.banks.sandbox!);
    const single = certs["single-0"]!;
    const portal = certs["portal-0"]!;
    const unbound = certs["portal-1"]!;
    try {
      // single slot: A was current and bound; a cut-over made B current, A unbound
      world.sandbox.bindCertificate(banks["single-0"]!.clientId, single.a.certPem);
      // portal: A and B both bound in the portal; portal-1: only B (A was unbound by a person)
      world.sandbox.bindCertificate(banks["portal-0"]!.clientId, portal.a.certPem);
      world.sandbox.bindCertificate(banks["portal-0"]!.clientId, portal.b.certPem);
      world.sandbox.bindCertificate(banks["portal-1"]!.clientId, unbound.b.certPem);
      await Promise.all([
        (async () => {
          await importAs("single-0", single.a);
          await sandboxBank.slots!.unbind(banks["single-0"]!.clientId, single.a.fingerprint);
          world.sandbox.bindCertificate(banks["single-0"]!.clientId, single.b.certPem);
          await importAs("single-0", single.b);
        })(),
        (async () => {
          await importAs("portal-0", portal.a);
          await importAs("portal-0", portal.b);
        })(),
        (async () => {
          await importAs("portal-1", unbound.a, "--no-verify");
          await importAs("portal-1", unbound.b);
        })(),
      ]);
    } finally {
      await sandboxBank.close();
    }
    const boundTo = (id: string) =>
      world.sandbox
        .boundCertificates(banks[id]!.clientId)
        .map((b) => b.certificate.fingerprint)
        .sort();
    const storeFile = join((world.config.stores.main as { dir: string }).dir, "onboard%2Fportal-1.json");
    const before = await readFile(storeFile);
    const [cut, manual, refused] = await Promise.all(
      Object.keys(banks).map((id) => certrotor("rollback", id, "--reason", "test", "--config", config)),
    );
    assert.equal(cut!.code, 0, cut!.stdout + cut!.stderr);
    assert.match(cut!.stdout, /single slot: the current certificate was unbound and the previous one bound/);
    assert.deepEqual(boundTo("single-0"), [single.a.fingerprint]);
    assert.equal(manual!.code, 0, manual!.stdout + manual!.stderr);
    assert.match(
      manual!.stdout,
      /registration manual: a token call shows the previous certificate is still bound/,
    );
    assertRefused(refused!, "PREVIOUS_NOT_BOUND", 2, /not bound at bank "portal"/, /in the bank's portal/);
    assert.deepEqual(boundTo("portal-1"), [unbound.b.fingerprint]);
    const current = (id: string) =>
      withWorldFileStore(
        world,
        async (store) =>
          (await store.readCurrent({ credentialId: id, path: `onboard/${id}` })).material.fingerprint,
      );
    assert.equal(await current("single-0"), single.a.fingerprint);
    assert.equal(await current("portal-0"), portal.a.fingerprint);
    assert.equal(await current("portal-1"), unbound.b.fingerprint, "the refused rollback changed nothing");
    assert.deepEqual(await readFile(storeFile), before, "the refused rollback wrote nothing to the store");
  });
});
