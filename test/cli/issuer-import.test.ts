/**
 * `certrotor issuer import`: an institution's existing CA goes into the store its local-ca issuer signs
 * from. Each bad import is one line, exit 64, nothing written anywhere (the installation snapshot); a
 * good one is what the issuer then signs with; a different CA is replaced only with --replace.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { createCsr, fingerprintOf, generateKeyPair, verifyChain } from "../../src/crypto/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime } from "../../src/runtime.js";
import { certrotor } from "../fixtures/cli.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { assertRefused, installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";

describe("certrotor issuer import", () => {
  let world: TestWorld;
  let configPath: string;
  let n = 0;
  const file = async (name: string, content: string): Promise<string> => {
    const path = join(world.dir, `${n++}-${name}`);
    await writeFile(path, content);
    return path;
  };
  const run = (...args: string[]) => certrotor("issuer", "import", ...args, "--config", configPath);

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    const config = structuredClone(world.config) as Config;
    config.issuers.existing = { kind: "local-ca", store: "main", path: "ca/existing", validity: 86_400_000 };
    config.issuers.banked = { kind: "bank", bank: "sandbox" };
    configPath = join(world.dir, "certrotor.yaml");
    await writeFile(configPath, stringify(config));
    const status = await certrotor("status", "--config", configPath);
    assert.equal(status.code, 0, status.stderr);
  });
  after(async () => {
    await world?.stop();
  });

  it("refuses each bad CA import with one line and exit 64, writing nothing", async () => {
    const ca = await aCa();
    const other = await aCa();
    const client = await aClientCert({ ca });
    const snapshot = await installationSnapshot(world);
    const pair = async (certPem: string, keyPem: string) => [
      "--cert",
      await file("c.pem", certPem),
      "--key",
      await file("k.pem", keyPem),
    ];
    const cases: [string[], string, RegExp][] = [
      [["existing", "--key", await file("k.pem", ca.keyPem)], "BAD_ARGUMENT", /needs --cert FILE/],
      [["existing", "--cert", join(world.dir, "absent.pem"), "--key", "x"], "BAD_ARGUMENT", /ENOENT/],
      [
        ["nope", ...(await pair(ca.certPem, ca.keyPem))],
        "BAD_ARGUMENT",
        /issuer "nope" is not in the config/,
      ],
      [["issuer", ...(await pair(ca.certPem, ca.keyPem))], "IMPORT_REJECTED", /already holds CA/],
      [["banked", ...(await pair(ca.certPem, ca.keyPem))], "BAD_ARGUMENT", /of kind bank: only a local-ca/],
      [["existing", ...(await pair(client.certPem, client.keyPem))], "IMPORT_REJECTED", /not a CA/],
      [["existing", ...(await pair(ca.certPem, other.keyPem))], "KEY_MISMATCH", /issuer existing CA --key/],
    ];
    for (const [args, code, message] of cases) assertRefused(await run(...args), code, 64, message);
    assert.equal(await installationSnapshot(world), snapshot, "nothing was written");
  });

  it("imports the CA the issuer then signs with, says unchanged on a repeat, and replaces only with --replace", async () => {
    const ca = await aCa();
    const files = ["--cert", await file("ca.pem", ca.certPem), "--key", await file("ca.key", ca.keyPem)];
    const first = await run("existing", ...files);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /imported into store "main" at ca\/existing/);
    assert.doesNotMatch(first.stdout + first.stderr, /PRIVATE KEY/);
    const again = await run("existing", ...files);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged/);

    const runtime = await createRuntime(await loadConfig(configPath), {
      logger: createLogger({ level: "silent" }),
    });
    try {
      const issuer = runtime.issuers.get("existing")!;
      const { keyPem } = await generateKeyPair("p256");
      const issued = await issuer.issue({
        csrPem: await createCsr({ keyPem, subject: "CN=onboarded,O=certrotor tests,C=BR" }),
        rotationId: "rot_issuer_import",
        credentialId: "cred-0",
        now: new Date(),
      });
      verifyChain(issued.certPem, issued.chainPem, ca.certPem, new Date(), "issued");
      assert.equal(fingerprintOf(await issuer.trustBundle()), fingerprintOf(ca.certPem));
    } finally {
      await runtime.close();
    }

    const next = await aCa();
    const nextFiles = [
      "--cert",
      await file("next.pem", next.certPem),
      "--key",
      await file("next.key", next.keyPem),
    ];
    const snapshot = await installationSnapshot(world);
    assertRefused(
      await run("existing", ...nextFiles),
      "IMPORT_REJECTED",
      64,
      /already holds CA .* --replace/,
    );
    assert.equal(await installationSnapshot(world), snapshot, "nothing was written");
    const replaced = await run("existing", ...nextFiles, "--replace");
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, /replacing [0-9a-f]{16}… \(kept as previous\)/);
  });
});
