/**
 * Portal signing (issuer kind bank-portal, seed 000): the saga stages a new key, opens a sign-csr task
 * with the CSR and parks; the test plays the person with `certrotor sandbox portal sign` and hands the
 * certificate back with `certrotor task complete --cert`, which checks it against the pending key, the
 * subject, clientAuth and the bank's CA first: a certificate for another key is refused (exit 64, one
 * line, nothing changed). The next `rotate --inline` goes on from there and promotes. All through the
 * real CLI, with the file state; the bank trusts its own CA for the credential's subject.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createCsr, generateKeyPair } from "../../src/crypto/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime } from "../../src/runtime.js";
import type { HumanTask } from "../../src/tasks/types.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { runCli, writeConfig } from "../queue/helpers.js";

describe("portal signing: a sign-csr task completed with the portal's certificate", () => {
  let world: TestWorld;
  let configPath: string;
  const cli = (...args: string[]) => runCli(args);
  const portalSign = async (csrFile: string, outFile: string) => {
    const run = await cli(
      "sandbox",
      "portal",
      "sign",
      "--csr",
      csrFile,
      "--out",
      outFile,
      "--sandbox",
      world.dir,
    );
    assert.equal(run.code, 0, run.stderr);
  };

  before(async () => {
    world = await aWorld({ store: "file", issuer: "bank-portal", bank: "trust-ca" });
    configPath = await writeConfig(world.dir, world.config);
    await writeFile(
      join(world.dir, "sandbox.json"),
      JSON.stringify({
        url: world.sandbox.url,
        portal_url: world.sandbox.portalUrl,
        portal_api_key: world.sandbox.portalApiKey,
        server_ca_file: "bank-ca.pem",
      }),
      { mode: 0o600 },
    );
  });
  after(() => world?.stop());

  async function pendingFingerprint(): Promise<string | undefined> {
    const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    try {
      const credential = await runtime.credential("cred-0");
      return (await runtime.stores.get("main")!.readPending(credential.ref))?.material.fingerprint;
    } finally {
      await runtime.close();
    }
  }

  it("parks on the task, refuses a certificate for another key, takes the portal's and promotes", async () => {
    const first = await cli("rotate", "cred-0", "--inline", "--config", configPath);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /awaiting registration: .*task task_[0-9a-f]{16}: upload the CSR/);

    const listed = await cli("task", "list", "--json", "--config", configPath);
    const tasks = JSON.parse(listed.stdout) as HumanTask[];
    assert.equal(tasks.length, 1);
    const task = tasks[0]!;
    assert.equal(task.kind, "sign-csr");
    assert.match(task.csrPem ?? "", /^-----BEGIN CERTIFICATE REQUEST-----/);
    const shown = await cli("task", "show", task.id, "--config", configPath);
    assert.match(shown.stdout, /BEGIN CERTIFICATE REQUEST/);
    const placeholder = await pendingFingerprint();
    assert.ok(placeholder, "the new key is staged while the person works");

    // a certificate the portal signed for another key (same subject): refused, nothing changed
    const { keyPem } = await generateKeyPair("p256");
    const strayCsr = join(world.dir, "stray.csr");
    await writeFile(
      strayCsr,
      await createCsr({ keyPem, subject: "CN=payments-0,OU=Payments,O=Test Fintech Ltda,C=BR" }),
    );
    await portalSign(strayCsr, join(world.dir, "stray.pem"));
    const refused = await cli(
      "task",
      "complete",
      task.id,
      "--cert",
      join(world.dir, "stray.pem"),
      "--config",
      configPath,
    );
    assert.equal(refused.code, 64, refused.stderr);
    assert.equal(refused.stderr.trim().split("\n").length, 1);
    assert.match(
      refused.stderr,
      /^certrotor: TASK_CERT_REJECTED: task task_\w+: the certificate is refused: KEY_MISMATCH/,
    );
    assert.equal(await pendingFingerprint(), placeholder, "the pending material is unchanged");
    const runtime0 = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    try {
      assert.equal((await runtime0.tasks.get(task.id))?.status, "open", "the task is still open");
    } finally {
      await runtime0.close();
    }

    // the person uploads the task's CSR; certrotor takes the certificate
    const csrFile = join(world.dir, "task.csr");
    await writeFile(csrFile, task.csrPem!);
    await portalSign(csrFile, join(world.dir, "signed.pem"));
    const completed = await cli(
      "task",
      "complete",
      task.id,
      "--cert",
      join(world.dir, "signed.pem"),
      "--by",
      "ana",
      "--config",
      configPath,
    );
    assert.equal(completed.code, 0, completed.stderr);
    const second = await cli("rotate", "cred-0", "--inline", "--config", configPath);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /succeeded: rotation rot_/);
    const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    try {
      const credential = await runtime.credential("cred-0");
      const deps = runtime.depsFor(credential);
      const current = await deps.store.readCurrent(credential.ref);
      const signed = await readFile(join(world.dir, "signed.pem"), "utf8");
      assert.equal(current.material.certPem.trim(), signed.trim(), "the portal's certificate is current");
      assert.ok(current.material.pfxBase64, "with its PFX");
      const closed = await runtime.tasks.get(task.id);
      assert.equal(closed?.closedBy, "operator:ana");
      const { clientId } = world.credentials[0]!;
      assert.deepEqual(
        await invariantViolations({ store: deps.store, bank: deps.bank, ref: credential.ref, clientId }),
        [],
      );
      const actions = (await runtime.journal.auditTrail("cred-0"))
        .map((e) => `${e.action}:${e.actor}`)
        .reverse();
      assert.deepEqual(actions.slice(0, 3), ["task-opened:on-demand", "issued:operator", "staged:on-demand"]);
    } finally {
      await runtime.close();
    }
  });
});
