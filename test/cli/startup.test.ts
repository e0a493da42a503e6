/**
 * What a command loads at start-up, so the CLI keeps starting at once: `--help` lists the commands from
 * their summaries without loading any command module (nor zod), and `status` on a file-only or Vault-only
 * config loads no AWS SDK, no fastify, no BullMQ, no ioredis and no node-forge. The real CLI runs with a
 * module-tracing hook (test/fixtures/module-trace); no timing is asserted (speed is `npm run bench -- startup`).
 */
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import { commands, summaries } from "../../src/cli/commands/index.js";
import { certrotorWith } from "../fixtures/cli.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";

const TRACE_HOOK = fileURLToPath(new URL("../fixtures/module-trace/register.mjs", import.meta.url));

/** The modules (file URLs and CommonJS paths) one run of `certrotor ...args` loaded, and its result. */
async function traced(
  ...args: string[]
): Promise<{ modules: string[]; code: number | null; stderr: string }> {
  const out = join(tmpdir(), `certrotor-trace-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(out, "");
  try {
    const run = await certrotorWith(
      {
        env: {
          CERTROTOR_MODULE_TRACE: out,
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${TRACE_HOOK}`.trim(),
        },
      },
      ...args,
    );
    const modules = (await readFile(out, "utf8")).split("\n").filter(Boolean);
    return { modules, code: run.code, stderr: run.stderr };
  } finally {
    await rm(out, { force: true });
  }
}

const packageOf = (module: string): string | undefined =>
  /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(module)?.[1];

function packagesOf(modules: string[]): Set<string> {
  return new Set(modules.map(packageOf).filter((name): name is string => name !== undefined));
}

const NOT_FOR_STATUS = [
  "@aws-sdk/client-secrets-manager",
  "fastify",
  "bullmq",
  "ioredis",
  "node-forge",
  "prom-client",
  "@peculiar/x509",
];

describe("CLI start-up loads only what the command uses", () => {
  it("each command's help summary is what its module registers", async () => {
    assert.deepEqual(Object.keys(summaries).sort(), Object.keys(commands).sort());
    const program = new Command("certrotor");
    for (const load of Object.values(commands)) (await load())(program);
    const help = program.createHelp();
    for (const command of program.commands) {
      const [term, description] = summaries[command.name()]!;
      assert.equal(term, help.subcommandTerm(command), `summary term of ${command.name()}`);
      assert.equal(description, command.description(), `summary description of ${command.name()}`);
    }
  });

  it("--help lists every command and loads no command module, nor zod", async () => {
    const run = await traced("--help");
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.modules.length > 0, "the trace hook recorded the run");
    const loaded = run.modules.filter((module) => /\/cli\/commands\/(?!index\.)[^/]+\.(js|ts)$/.test(module));
    assert.deepEqual(loaded, []);
    assert.ok(!packagesOf(run.modules).has("zod"), "zod is not loaded for --help");
  });

  for (const store of ["file", "vault"] as const) {
    describe(`status with a ${store}-only config`, () => {
      let world: TestWorld;
      let configPath: string;
      before(async () => {
        world = await aWorld({ store, issuer: "local-ca" });
        configPath = join(world.dir, "certrotor.json");
        await writeFile(configPath, JSON.stringify(world.config));
      });
      after(() => world.stop());

      it(`reports the credential and loads no AWS SDK, fastify, BullMQ, ioredis, node-forge or @peculiar/x509`, async () => {
        const run = await traced("status", "--json", "--config", configPath);
        assert.equal(run.code, 0, run.stderr);
        const packages = packagesOf(run.modules);
        assert.ok(packages.has("zod"), "the trace saw the config being parsed");
        for (const name of NOT_FOR_STATUS) assert.ok(!packages.has(name), `${name} was loaded`);
        assert.equal(packages.has("node-vault"), store === "vault");
      });
    });
  }
});
