/**
 * `certrotor import` through the real CLI: every bad import is one line, exit 64, nothing written (the
 * installation snapshot of a file-store world); a good import into the file store, the Vault emulator and
 * the AWS emulator writes the material as current (proven by a token call at the sandbox bank), and the
 * credential then rotates.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { buildPfx } from "../../src/crypto/index.js";
import { createStore } from "../../src/stores/index.js";
import { encodeMaterial } from "../../src/stores/material.js";
import { type AwsEmulator, startAwsEmulator } from "../emulators/aws/server.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { certrotor, certrotorWith } from "../fixtures/cli.js";
import { aCa, aClientCert, aServerCert, type ClientCert, days } from "../fixtures/pki.js";
import { assertRefused, installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";

const BAD_INPUT = 64;

describe("certrotor import", () => {
  let world: TestWorld;
  let vault: VaultEmulator;
  let aws: AwsEmulator;
  /** Every store; the bad imports use `fileConfig`, the world's own (the file store only). */
  let configPath: string;
  let fileConfig: string;
  let n = 0;
  /** imp-aws replaces what its secret holds; imp-aws-empty goes into a secret created without a value. */
  const targets = ["imp-file", "imp-vault", "imp-aws", "imp-aws-empty"] as const;
  const bank: Record<string, { clientId: string; clientSecret: string }> = {};

  const file = async (name: string, content: string | Buffer): Promise<string> => {
    const path = join(world.dir, `${n++}-${name}`);
    await writeFile(path, content);
    return path;
  };
  const pemFiles = async (cert: ClientCert): Promise<string[]> => [
    "--cert",
    await file("cert.pem", cert.certPem),
    "--key",
    await file("key.pem", cert.keyPem),
  ];

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    [vault, aws] = await Promise.all([startVaultEmulator(), startAwsEmulator()]);
    const config = structuredClone(world.config) as Config & { stores: Record<string, unknown> };
    const stores = config.stores as Record<string, unknown>;
    stores.vault = { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } };
    stores.aws = { kind: "aws", region: aws.region, endpoint: aws.url, credentials: aws.credentials };
    for (const id of targets) bank[id] = world.sandbox.addCredential({});
    const base = config.credentials[0]!;
    config.credentials.push(
      ...targets.map((id) => ({
        ...base,
        id,
        clientId: bank[id]!.clientId,
        store: id === "imp-file" ? "main" : id.startsWith("imp-aws") ? "aws" : "vault",
        path: `onboard/${id}`,
      })),
    );
    configPath = join(world.dir, "certrotor.yaml");
    await writeFile(configPath, stringify(config));
    // an AWS secret must exist before it can be imported into (certrotor never creates secrets)
    const old = await aClientCert({ ca: world.ca });
    const sdk = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.url,
      credentials: aws.credentials,
    });
    await sdk.send(
      new CreateSecretCommand({
        Name: "onboard/imp-aws",
        SecretString: JSON.stringify(
          encodeMaterial({
            clientId: bank["imp-aws"]!.clientId,
            certPem: old.certPem,
            keyPem: old.keyPem,
            fingerprint: old.fingerprint,
            notAfter: old.notAfter.toISOString(),
          }),
        ),
      }),
    );
    await sdk.send(new CreateSecretCommand({ Name: "onboard/imp-aws-empty" }));
    sdk.destroy();
    fileConfig = join(world.dir, "file-only.yaml");
    await writeFile(fileConfig, stringify(world.config));
    // the state dir exists from here on: a refused import must not touch it
    const status = await certrotor("status", "--config", fileConfig);
    assert.equal(status.code, 0, status.stderr);
  });
  after(async () => {
    await Promise.all([vault?.stop(), aws?.stop()]);
    await world?.stop();
  });

  it("refuses each bad import with one line and exit 64, writing nothing", async () => {
    const good = await aClientCert({ ca: world.ca });
    const other = await aClientCert({ ca: world.ca });
    const expired = await aClientCert({
      ca: world.ca,
      notBefore: new Date(Date.now() - days(100)),
      notAfter: new Date(Date.now() - days(1)),
    });
    const serverOnly = await aServerCert({ ca: world.ca });
    const foreign = await aClientCert({ ca: await aCa() });
    const pfx = await file(
      "cred.p12",
      buildPfx({ keyPem: good.keyPem, certPem: good.certPem, passphrase: "the-right-one" }),
    );
    const env = { IMPORT_SECRET: "s3cr3t-value", PFX_PASS: "not-the-right-one" };
    const secret = ["--client-secret-env", "IMPORT_SECRET"];
    const cases: Array<{ args: string[]; code: string; match: RegExp }> = [
      {
        args: [
          "--cert",
          await file("c.pem", good.certPem),
          "--key",
          await file("k.pem", other.keyPem),
          ...secret,
        ],
        code: "KEY_MISMATCH",
        match: /does not belong to the certificate/,
      },
      {
        args: ["--pfx", pfx, "--pfx-passphrase-env", "PFX_PASS", ...secret],
        code: "PFX_BAD_PASSPHRASE",
        match: /passphrase is wrong/,
      },
      { args: [...(await pemFiles(expired)), ...secret], code: "IMPORT_REJECTED", match: /expired at/ },
      { args: [...(await pemFiles(serverOnly)), ...secret], code: "IMPORT_REJECTED", match: /clientAuth/ },
      {
        args: [...(await pemFiles(foreign)), ...secret],
        code: "IMPORT_REJECTED",
        match: /trust bundle of issuer "issuer"/,
      },
      { args: await pemFiles(good), code: "BAD_ARGUMENT", match: /client secret/ },
    ];
    const snapshot = await installationSnapshot(world);
    const runs = await Promise.all([
      ...cases.map((c) => certrotorWith({ env }, "import", "cred-0", ...c.args, "--config", fileConfig)),
      certrotorWith(
        { env },
        "import",
        "no-such-credential",
        ...(await pemFiles(good)),
        ...secret,
        "--config",
        fileConfig,
      ),
    ]);
    cases.forEach((c, i) => {
      const line = assertRefused(runs[i]!, c.code, BAD_INPUT, c.match);
      assert.ok(!line.includes(env.IMPORT_SECRET) && !line.includes(env.PFX_PASS), "no secret in the error");
    });
    assertRefused(runs[cases.length]!, "UNKNOWN_CREDENTIAL", BAD_INPUT, /no-such-credential/);
    assert.equal(await installationSnapshot(world), snapshot, "nothing changed");
  });

  it("imports into the file store, Vault and AWS (a secret with a value, and one without) as current, proven by a token call, and each then rotates", async () => {
    const imported: Record<string, ClientCert> = {};
    for (const id of targets) {
      const cert = await aClientCert({ ca: world.ca, subject: `CN=${id},O=Test Fintech Ltda,C=BR` });
      world.sandbox.bindCertificate(bank[id]!.clientId, cert.certPem); // the bank already knows it
      imported[id] = cert;
    }
    const pfxFile = await file(
      "aws.p12",
      buildPfx({
        keyPem: imported["imp-aws"]!.keyPem,
        certPem: imported["imp-aws"]!.certPem,
        chainPem: world.ca.certPem,
        passphrase: "pfx-pass",
      }),
    );
    const runs = await Promise.all([
      certrotorWith(
        { env: { SECRET: bank["imp-file"]!.clientSecret } },
        "import",
        "imp-file",
        ...(await pemFiles(imported["imp-file"]!)),
        "--chain",
        await file("chain.pem", world.ca.certPem),
        "--client-secret-env",
        "SECRET",
        "--config",
        configPath,
      ),
      certrotorWith(
        { stdin: `${bank["imp-vault"]!.clientSecret}\n` },
        "import",
        "imp-vault",
        ...(await pemFiles(imported["imp-vault"]!)),
        "--client-secret-stdin",
        "--config",
        configPath,
      ),
      certrotorWith(
        { env: { SECRET: bank["imp-aws"]!.clientSecret, PASS: "pfx-pass" } },
        "import",
        "imp-aws",
        "--pfx",
        pfxFile,
        "--pfx-passphrase-env",
        "PASS",
        "--client-secret-env",
        "SECRET",
        "--operator",
        "ana",
        "--config",
        configPath,
      ),
      certrotorWith(
        { env: { SECRET: bank["imp-aws-empty"]!.clientSecret } },
        "import",
        "imp-aws-empty",
        ...(await pemFiles(imported["imp-aws-empty"]!)),
        "--client-secret-env",
        "SECRET",
        "--config",
        configPath,
      ),
    ]);
    for (const [i, id] of targets.entries()) {
      const run = runs[i]!;
      assert.equal(run.code, 0, `${id}: ${run.stderr}\n${run.stdout}`);
      assert.match(run.stdout, /verified: bank "sandbox" issued a token/);
      assert.match(run.stdout, /imported: now current/);
      assert.ok(!run.stdout.includes(bank[id]!.clientSecret), "the secret is never printed");
      // the AWS SDK's multi-line Node-version notice is silenced: stderr stays free for one-line errors
      assert.doesNotMatch(run.stderr, /NodeVersionSupportWarning/, id);
    }
    assert.match(runs[2]!.stdout, /replacing [0-9a-f]{16}… \(kept as previous\)/);

    const loaded = await loadConfig(configPath);
    for (const id of targets) {
      const credential = loaded.credentials.find((c) => c.id === id)!;
      const store = await createStore(credential.store, loaded.stores[credential.store]!);
      try {
        const current = await store.readCurrent({ credentialId: id, path: credential.path! });
        assert.equal(current.material.fingerprint, imported[id]!.fingerprint, `${id} current`);
        assert.equal(current.material.clientSecret, bank[id]!.clientSecret, `${id} client secret`);
        assert.equal(current.material.clientId, bank[id]!.clientId);
      } finally {
        await store.close();
      }
    }

    const again = await certrotorWith(
      { env: { SECRET: bank["imp-file"]!.clientSecret } },
      "import",
      "imp-file",
      ...(await pemFiles(imported["imp-file"]!)),
      "--client-secret-env",
      "SECRET",
      "--no-verify",
      "--config",
      configPath,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged: the store already holds this material/);

    const rotations = await Promise.all(
      targets.map((id) => certrotor("rotate", id, "--inline", "--config", configPath)),
    );
    for (const [i, id] of targets.entries()) {
      const run = rotations[i]!;
      assert.equal(run.code, 0, `${id}: ${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /succeeded: rotation/);
      const bound = world.sandbox.boundCertificates(bank[id]!.clientId).map((b) => b.certificate.fingerprint);
      assert.equal(bound.length, 1, `${id}: the new certificate alone is bound`);
      assert.notEqual(bound[0], imported[id]!.fingerprint, `${id}: the imported one was rotated away`);
    }
  });
});
