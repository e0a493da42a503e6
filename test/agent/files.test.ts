/**
 * `certrotor agent` and its files, on one file-store world (no Redis, no worker: new material is put into
 * the store directly). Bad input is refused in one line with nothing written; --once writes the five
 * files with their modes; a SIGKILL between a file's write and its rename (the test-only pause hook)
 * leaves every file old or new and complete, and a restarted agent removes the temp file, writes the
 * new material, then follows further changes and runs --exec after each (its failure only logged).
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { readPfx } from "../../src/crypto/index.js";
import { credentialMaterial } from "../../src/demo/credential.js";
import type { Material } from "../../src/stores/types.js";
import { BIN, certrotor } from "../fixtures/cli.js";
import { days } from "../fixtures/pki.js";
import { assertRefused, installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld, withWorldFileStore } from "../fixtures/world.js";
import { exitOf, outputMatches, pollUntil, spawnProcess, stopWorker } from "../queue/helpers.js";

const FILES = ["chain.pem", "client.key", "client.pem", "client.pfx", "client.pfx.pass"];
const REF = { credentialId: "cred-0", path: "certrotor/cred-0" };

const modeOf = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8);

/** What the PKCS#12 in `dir` holds, opened with the passphrase file beside it. */
async function pfxIn(dir: string): Promise<{ certPem: string; keyPem: string }> {
  const passphrase = (await readFile(join(dir, "client.pfx.pass"), "utf8")).trim();
  return readPfx(await readFile(join(dir, "client.pfx")), passphrase);
}

const sameCert = (a: string, b: string): boolean =>
  new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;

describe("certrotor agent's files", () => {
  let world: TestWorld;
  let config: string;
  let first: Material;

  /** New material for cred-0, put into the store as current (what a promote does, as far as a reader sees). */
  const promote = async (): Promise<Material> => {
    const current = await withWorldFileStore(world, (store) => store.readCurrent(REF));
    const material = await credentialMaterial({
      ca: world.ca,
      keyType: "p256",
      subject: "CN=payments-0,OU=Payments,O=Test Fintech Ltda,C=BR",
      notAfter: new Date(Date.now() + days(90)),
      clientId: current.material.clientId,
      clientSecret: current.material.clientSecret ?? "",
    });
    await withWorldFileStore(world, (store) => store.putCurrent(REF, material));
    return material;
  };

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca" });
    config = join(world.dir, "certrotor.yaml");
    await writeFile(config, stringify(world.config));
    first = (await withWorldFileStore(world, (store) => store.readCurrent(REF))).material;
  });
  after(() => world.stop());

  it("refuses bad input in one line with its exit code, and writes nothing", async () => {
    const snapshot = await installationSnapshot(world);
    const out = (n: number) => join(world.dir, `refused-${n}`);
    const cases: Array<{ args: string[]; code: string; match: RegExp }> = [
      { args: ["--credential", "nope", "--out", out(0)], code: "UNKNOWN_CREDENTIAL", match: /"nope"/ },
      {
        args: ["--credential", "cred-0", "--out", join(config, "sub")],
        code: "PATH_NOT_WRITABLE",
        match: /--out .*certrotor\.yaml\/sub.*ENOTDIR.*\(hint: /,
      },
      {
        args: [
          "--credential",
          "cred-0",
          "--out",
          out(2),
          "--exec",
          "true",
          "--signal",
          "HUP",
          "--pid-file",
          "p",
        ],
        code: "BAD_ARGUMENT",
        match: /--exec and --signal/,
      },
      {
        args: ["--credential", "cred-0", "--out", out(3), "--signal", "HUP"],
        code: "BAD_ARGUMENT",
        match: /--signal SIGHUP needs --pid-file.*\(hint: /,
      },
      {
        args: ["--credential", "cred-0", "--out", out(4), "--interval", "5"],
        code: "BAD_ARGUMENT",
        match: /--interval/,
      },
      {
        args: ["--credential", "cred-0", "--out", out(5), "--signal", "NOPE", "--pid-file", "p"],
        code: "BAD_ARGUMENT",
        match: /signal name/,
      },
    ];
    const runs = await Promise.all(
      cases.map((c) => certrotor("agent", "--config", config, "--once", ...c.args)),
    );
    for (const [i, run] of runs.entries()) assertRefused(run, cases[i]!.code, 64, cases[i]!.match);
    for (let n = 0; n < cases.length; n++) {
      await assert.rejects(stat(out(n)), { code: "ENOENT" }, `nothing written to ${out(n)}`);
    }
    assert.equal(await installationSnapshot(world), snapshot, "the store and state are as they were");
  });

  it("--once writes the PEM files, the key and the PKCS#12 with its passphrase file, secrets 0600, and exits", async () => {
    const dir = join(world.dir, "once");
    const run = await certrotor(
      "agent",
      "--config",
      config,
      "--credential",
      "cred-0",
      "--out",
      dir,
      "--once",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`holds cred-0's certificate ${first.fingerprint.slice(0, 16)}`));
    assert.deepEqual((await readdir(dir)).sort(), FILES);
    assert.equal(await modeOf(dir), "700");
    const modes = Object.fromEntries(
      await Promise.all(FILES.map(async (f) => [f, await modeOf(join(dir, f))])),
    );
    assert.deepEqual(modes, {
      "chain.pem": "644",
      "client.key": "600",
      "client.pem": "644",
      "client.pfx": "600",
      "client.pfx.pass": "600",
    });
    assert.equal(await readFile(join(dir, "client.pem"), "utf8"), first.certPem);
    assert.equal(await readFile(join(dir, "client.key"), "utf8"), first.keyPem);
    assert.equal(await readFile(join(dir, "chain.pem"), "utf8"), first.chainPem ?? "");
    assert.ok(
      sameCert((await pfxIn(dir)).certPem, first.certPem),
      "the PKCS#12 opens with its passphrase file",
    );
    const passphrase = (await readFile(join(dir, "client.pfx.pass"), "utf8")).trim();
    for (const secret of [passphrase, first.clientSecret!, "PRIVATE KEY"])
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), "no secret in the output");
  });

  it("killed between a write and its rename leaves each file old or new and complete; a restart cleans up, writes the new material and follows with --exec", async () => {
    const dir = join(world.dir, "crash");
    const once = await certrotor(
      "agent",
      "--config",
      config,
      "--credential",
      "cred-0",
      "--out",
      dir,
      "--once",
    );
    assert.equal(once.code, 0, once.stderr);
    const old = Object.fromEntries(
      await Promise.all(FILES.map(async (f) => [f, await readFile(join(dir, f))])),
    );
    const second = await promote();

    const args = [
      BIN,
      "--log-level",
      "info",
      "agent",
      "--config",
      config,
      "--credential",
      "cred-0",
      "--out",
      dir,
      "--interval",
      "100",
    ];
    const paused = spawnProcess(args, "test pause before renaming client.key", {
      CERTROTOR_TEST_AGENT_PAUSE_BEFORE_RENAME: "client.key",
    });
    await paused.ready;
    paused.child.kill("SIGKILL");
    await exitOf(paused, 10_000);
    const names = await readdir(dir);
    const temps = names.filter((n) => n.endsWith(".certrotor-agent.tmp"));
    assert.equal(temps.length, 1, `the killed writer's temp file: ${names.join(", ")}`);
    // each file is the old one or the new one, complete
    assert.deepEqual(
      await readFile(join(dir, "client.key")),
      old["client.key"],
      "the key is the old one, whole",
    );
    assert.deepEqual(await readFile(join(dir, "client.pem")), old["client.pem"]);
    assert.deepEqual(
      await readFile(join(dir, "client.pfx.pass")),
      old["client.pfx.pass"],
      "the passphrase is kept",
    );
    const pfx = await pfxIn(dir);
    assert.ok(
      sameCert(pfx.certPem, first.certPem) || sameCert(pfx.certPem, second.certPem),
      "the PKCS#12 is whole",
    );
    assert.equal(await readFile(join(dir, temps[0]!), "utf8"), second.keyPem, "the temp file is the new key");

    const log = join(world.dir, "exec.log");
    const agent = spawnProcess(
      [...args, "--exec", `echo "$CERTROTOR_FINGERPRINT" >> '${log}'; exit 3`],
      "certrotor agent: following cred-0",
    );
    try {
      await agent.ready;
      assert.deepEqual((await readdir(dir)).sort(), FILES, "the temp file is removed");
      assert.equal(await readFile(join(dir, "client.key"), "utf8"), second.keyPem);
      assert.equal(await readFile(join(dir, "client.pem"), "utf8"), second.certPem);
      assert.ok(sameCert((await pfxIn(dir)).certPem, second.certPem));
      assert.equal(
        await readFile(log, "utf8"),
        `${second.fingerprint}\n`,
        "--exec ran after the start's write",
      );

      const third = await promote();
      await pollUntil(
        async () => ((await readFile(log, "utf8")).includes(third.fingerprint) ? true : undefined),
        15_000,
        "--exec after the next change",
      );
      assert.equal(
        await readFile(join(dir, "client.key"), "utf8"),
        third.keyPem,
        "the files are in place before --exec",
      );
      assert.equal(await readFile(join(dir, "client.pem"), "utf8"), third.certPem);
      await outputMatches(agent, /"exitCode":3/, 5_000);
      assert.equal(await stopWorker(agent), 0, agent.output());
      for (const secret of [third.keyPem, third.clientSecret!, old["client.pfx.pass"]!.toString().trim()])
        assert.ok(!agent.output().includes(secret), "no secret in the agent's output");
    } finally {
      await stopWorker(agent);
    }
  });
});
