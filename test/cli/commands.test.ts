import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Config } from "../../src/config/schema.js";
import { generateKeyPair } from "../../src/crypto/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime } from "../../src/runtime.js";
import { encodeMaterial } from "../../src/stores/material.js";
import { certrotor } from "../fixtures/cli.js";
import { aWorld, type TestWorld, withWorldFileStore } from "../fixtures/world.js";

/** What the bank and the store hold for a credential: must not change after bad input. */
async function snapshot(world: TestWorld, id: string): Promise<string> {
  const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
  try {
    const credential = await runtime.credential(id);
    const deps = runtime.depsFor(credential);
    const current = await deps.store.readCurrent(credential.ref).catch((e: Error) => e.message);
    const pending = await deps.store.readPending(credential.ref).catch(() => null);
    const c = world.credentials.find((x) => x.id === id)!;
    const slots = (await requireSlots(deps.bank).listSlots(c.clientId)).map((s) => s.fingerprint);
    return JSON.stringify({
      current: typeof current === "string" ? current : current.version,
      pending,
      slots,
    });
  } finally {
    await runtime.close();
  }
}

describe("the certrotor CLI against a file-store installation", () => {
  let world: TestWorld;
  let configPath: string;

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 4 });
    const config: Config = {
      ...world.config,
      issuers: {
        ...world.config.issuers,
        "no-ca": { kind: "local-ca", store: "main", path: "ca/missing", validity: 86_400_000 },
      },
      credentials: world.config.credentials.map((c) => (c.id === "cred-3" ? { ...c, issuer: "no-ca" } : c)),
    };
    configPath = join(world.dir, "certrotor.json");
    await writeFile(configPath, JSON.stringify(config));
    await withWorldFileStore(world, async (store) => {
      // cred-1: stored without its key; cred-2: a key that is not the certificate's
      const ref1 = { credentialId: "cred-1", path: "certrotor/cred-1" };
      const doc1 = encodeMaterial((await store.readCurrent(ref1)).material);
      delete doc1.keyPem;
      await store.putCurrentDocument(ref1, doc1);
      const ref2 = { credentialId: "cred-2", path: "certrotor/cred-2" };
      const material2 = (await store.readCurrent(ref2)).material;
      await store.putCurrent(ref2, { ...material2, keyPem: (await generateKeyPair("p256")).keyPem });
    });
  });
  after(() => world.stop());

  it("scan --json reports every credential: due ones, broken ones with why, and exits 2 when one is broken", async () => {
    const run = await certrotor("scan", "--json", "--config", configPath);
    assert.equal(run.code, 2, run.stderr);
    const report = JSON.parse(run.stdout) as {
      entries: Array<{ credentialId: string; decision: string; reason: string }>;
    };
    const byId = new Map(report.entries.map((e) => [e.credentialId, e]));
    assert.equal(byId.get("cred-0")?.decision, "due-now");
    assert.equal(byId.get("cred-1")?.decision, "broken");
    assert.equal(byId.get("cred-1")?.reason, "MATERIAL_INVALID");
  });

  it("rotate --inline prints one line per step with its timing and exits 0; status --history --json then shows its audit trail with its actor", async () => {
    const run = await certrotor("rotate", "cred-0", "--inline", "--config", configPath);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    for (const step of ["plan", "generate", "issue", "stage", "register", "verify", "promote", "retire"]) {
      assert.match(run.stdout, new RegExp(`^  ${step}\\s+\\d+ ms$`, "m"));
    }
    assert.match(run.stdout, /^succeeded: rotation rot_[0-9a-f]{32}/m);

    // status reads the audit trail of that rotation (in this test: no test leans on another's effects)
    const status = await certrotor("status", "cred-0", "--history", "--json", "--config", configPath);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as {
      credentials: Array<{
        history: Array<{ action: string; actor: string }>;
        rotations: Array<{ status: string }>;
      }>;
    };
    const credential = report.credentials[0]!;
    assert.equal(credential.rotations[0]?.status, "succeeded");
    const actions = credential.history.map((e) => e.action);
    for (const action of ["issued", "staged", "bound", "verified", "promoted", "unbound"])
      assert.ok(actions.includes(action), action);
    assert.ok(credential.history.every((e) => e.actor === "on-demand"));
  });

  for (const [id, code, what] of [
    ["nope", "UNKNOWN_CREDENTIAL", "an unknown credential"],
    ["cred-1", "MATERIAL_INVALID", "a store entry missing its key"],
    ["cred-2", "KEY_MISMATCH", "a current key that does not match its certificate"],
    ["cred-3", "CA_KEY_MISSING", "a CA whose key is not in the store"],
  ] as const) {
    it(`refuses ${what} with one line naming ${code}, exit 64, and changes nothing`, async () => {
      const before = id === "nope" ? "" : await snapshot(world, id);
      const run = await certrotor("rotate", id, "--inline", "--config", configPath);
      assert.equal(run.code, 64, run.stdout + run.stderr);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, new RegExp(`^certrotor: ${code}: `));
      if (id !== "nope") assert.equal(await snapshot(world, id), before);
    });
  }

  it("refuses a bad config file with one line naming the field, exit 64", async () => {
    const bad = join(world.dir, "bad.yaml");
    await writeFile(
      bad,
      "credentials:\n  - { id: x, clientId: y, bank: b, store: s, issuer: i, keyType: rsa1024 }\n",
    );
    const run = await certrotor("scan", "--config", bad);
    assert.equal(run.code, 64);
    assert.match(
      run.stderr.trim(),
      /^certrotor: CONFIG_INVALID: .*credentials\[0\]\.keyType: expected one of rsa2048/,
    );
    assert.equal(run.stderr.trim().split("\n").length, 1);
  });

  it("retire-due with nothing due says so and exits 0", async () => {
    const run = await certrotor("retire-due", "--config", configPath);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /nothing is due for retirement/);
  });
});
