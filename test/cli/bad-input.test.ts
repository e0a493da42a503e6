/**
 * Bad input through the real CLI, each case a child process: one line `certrotor: CODE: ...`, its exit
 * code, and nothing changed in the store, the state dir or at the bank (snapshots before and after).
 * Config (YAML errors, alias bomb, nesting, zero durations, grace vs lifetime, Redis URL, log level, a
 * bounded report), command-line values, and directories that cannot be written.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import type { Config } from "../../src/config/schema.js";
import { certrotor } from "../fixtures/cli.js";
import { assertRefused, installationSnapshot } from "../fixtures/refusal.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";

const BAD_INPUT = 64;

describe("bad input through the CLI changes nothing", () => {
  let world: TestWorld;
  let good: string;
  let snapshot: string;
  let n = 0;

  /** Writes `text` as a config file of its own and returns its path. */
  const configFile = async (text: string): Promise<string> => {
    const path = join(world.dir, `bad-${n++}.yaml`);
    await writeFile(path, text);
    return path;
  };
  const withConfig = (edit: (config: Config) => void): Promise<string> => {
    const config = structuredClone(world.config);
    edit(config);
    return configFile(stringify(config));
  };
  /** Runs every command (in parallel), checks each refusal, then that nothing changed. */
  const refusals = async (
    cases: Array<{ args: string[]; code: string; exit?: number; match?: RegExp[] }>,
  ): Promise<string[]> => {
    const runs = await Promise.all(cases.map((c) => certrotor(...c.args)));
    const lines = runs.map((run, i) => {
      const c = cases[i]!;
      return assertRefused(run, c.code, c.exit ?? BAD_INPUT, ...(c.match ?? []));
    });
    assert.equal(await installationSnapshot(world), snapshot, "nothing changed");
    return lines;
  };

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 1 });
    good = join(world.dir, "good.yaml");
    await writeFile(good, stringify(world.config));
    // the state dir exists from here on: a refused command must not touch it
    const status = await certrotor("status", "--config", good);
    assert.equal(status.code, 0, status.stderr);
    snapshot = await installationSnapshot(world);
  });
  after(() => world.stop());

  describe("in the config file", () => {
    it("names the line and the key of a duplicate key and of a YAML syntax error", async () => {
      const duplicate = await configFile(
        `${stringify(world.config)}stores:\n  main:\n    kind: file\n  main:\n    kind: file\n`,
      );
      const syntax = await configFile("credentials:\n  - id: a\n    clientId: b\n   bank: c\n");
      const [dup, bad] = await refusals([
        { args: ["rotate", "cred-0", "--inline", "--config", duplicate], code: "CONFIG_INVALID" },
        { args: ["scan", "--config", syntax], code: "CONFIG_INVALID" },
      ]);
      const storesLine = stringify(world.config).split("\n").length;
      assert.match(dup!, /line \d+, column 1: duplicate key "stores"/);
      assert.ok(dup!.includes(`line ${storesLine}, column 1`), dup);
      assert.match(bad!, /line 4, column \d+ \(key "bank"\).*: YAML /);
    });

    it("refuses a YAML alias bomb and flow collections nested without end as CONFIG_INVALID, never INTERNAL", async () => {
      const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
      for (const name of "bcdefghij") {
        const prev = String.fromCharCode(name.charCodeAt(0) - 1);
        levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
      }
      const bomb = await configFile(`${levels.join("\n")}\n`);
      const deep = await configFile(`stores: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`);
      const [aliases, nesting] = await refusals([
        { args: ["scan", "--config", bomb], code: "CONFIG_INVALID" },
        { args: ["scan", "--config", deep], code: "CONFIG_INVALID" },
      ]);
      assert.match(aliases!, /aliases .* expand to more than 100 nodes/);
      assert.match(nesting!, /line 1: flow collections .* nested deeper than 64 levels/);
    });

    it("refuses zero leases, job locks, timeouts and backoffs, naming each field", async () => {
      const zero = await withConfig((c) => {
        const worker = c.worker as Record<string, unknown>;
        worker.rotationLease = 0;
        worker.jobLockDuration = "0s";
        worker.shutdownTimeout = 0;
        c.banks.sandbox!.requestTimeout = 0;
        (c.renewal as Record<string, unknown>).backoff = "0m";
        c.alerts.timeout = 0;
        const store = c.stores.main as Record<string, unknown>;
        store.lockLease = 0;
      });
      const [line] = await refusals([
        { args: ["rotate", "cred-0", "--inline", "--config", zero], code: "CONFIG_INVALID" },
      ]);
      for (const field of [
        "worker.rotationLease",
        "worker.jobLockDuration",
        "worker.shutdownTimeout",
        "banks.sandbox.requestTimeout",
        "renewal.backoff",
        "alerts.timeout",
        "stores.main.lockLease",
      ])
        assert.ok(line!.includes(`${field}: must be greater than 0`), `${field} in ${line}`);
    });

    it("refuses a grace period that is not shorter than the issuer's certificate lifetime", async () => {
      const config = await withConfig((c) => {
        (c.issuers.issuer as { validity: number }).validity = 7 * 86_400_000;
        c.credentials[0]!.renewal = { gracePeriod: 8 * 86_400_000 };
      });
      await refusals([
        {
          args: ["rotate", "cred-0", "--inline", "--config", config],
          code: "CONFIG_INVALID",
          match: [
            /credentials\[0\]\.renewal\.gracePeriod: 8d is not shorter than .*issuers\.issuer\.validity: 1w/,
          ],
        },
      ]);
    });

    it("names redis.url when it is not a Redis URL, and log.level when it is no level", async () => {
      const redis = await withConfig((c) => {
        (c as Record<string, unknown>).redis = { url: "http://127.0.0.1:6379" };
      });
      const level = await withConfig((c) => {
        (c.log as Record<string, unknown>).level = "loud";
      });
      await refusals([
        {
          args: ["scan", "--config", redis],
          code: "CONFIG_INVALID",
          match: [/redis\.url: expected a redis:\/\//],
        },
        {
          args: ["scan", "--config", level],
          code: "CONFIG_INVALID",
          match: [/log\.level: expected one of trace/],
        },
      ]);
    });

    it("reports a huge broken config as the first 20 problems and a count, on one bounded line", async () => {
      const huge = await withConfig((c) => {
        const credentials = c.credentials as unknown as Array<Record<string, unknown>>;
        for (let i = 0; i < 5_000; i++) credentials.push({ id: `x-${i}`, keyType: "rsa1024".repeat(50) });
      });
      const [line] = await refusals([{ args: ["scan", "--config", huge], code: "CONFIG_INVALID" }]);
      assert.match(line!, /; and \d{4,} more problems$/);
      assert.equal(line!.split("; ").length, 21, "20 problems, then the count");
      assert.ok(line!.length < 20 * 320, `${line!.length} characters`);
    });

    it("refuses a Vault path with a '..' segment and plain http:// to a Vault that is not on loopback", async () => {
      const config = await withConfig((c) => {
        c.stores.vault = {
          kind: "vault",
          address: "http://vault.example.test:8200",
          auth: { method: "token", token: "t" },
          mount: "secret",
          pendingSuffix: ".pending",
          requestTimeout: 1_000,
        };
        c.credentials[0]!.path = "../../sys/seal";
      });
      await refusals([
        {
          args: ["scan", "--config", config],
          code: "CONFIG_INVALID",
          match: [
            /stores\.vault\.address: plain http:\/\/ .*insecureHttp: true/,
            /credentials\[0\]\.path: path has a '\.' or '\.\.' segment/,
          ],
        },
      ]);
    });
  });

  describe("on the command line", () => {
    it("refuses malformed numbers, ports, durations and enum values before anything starts", async () => {
      const lines = await refusals([
        { args: ["scan", "--concurrency", "0", "--config", good], code: "BAD_ARGUMENT" },
        { args: ["worker", "--port", "70000", "--config", good], code: "BAD_ARGUMENT" },
        {
          args: ["rotate", "cred-0", "--wait", "--worker-timeout", "0s", "--config", good],
          code: "BAD_ARGUMENT",
        },
        { args: ["--log-level", "loud", "status", "--config", good], code: "BAD_ARGUMENT" },
        { args: ["demo", "--redis-url", "http://user:hunter2@127.0.0.1:1"], code: "BAD_ARGUMENT" },
        {
          args: ["sandbox", "--out", join(world.dir, "kit"), "--allow-ip", "10.0.0.300"],
          code: "BAD_ARGUMENT",
        },
        { args: ["scan", "--bogus", "--config", good], code: "BAD_ARGUMENT" },
      ]);
      assert.match(lines[0]!, /--concurrency <n>' argument '0' is invalid\. expected an integer 1-256/);
      assert.match(lines[1]!, /--port <n>' argument '70000' is invalid/);
      assert.match(lines[2]!, /--worker-timeout <duration>' argument '0s' is invalid/);
      assert.match(lines[3]!, /--log-level <level>' argument 'loud' is invalid\. expected one of trace/);
      assert.ok(!lines[4]!.includes("hunter2"), "a URL's password is not repeated");
      assert.match(lines[5]!, /--allow-ip <cidr\.\.\.>' argument '10\.0\.0\.300' is invalid/);
      assert.match(lines[6]!, /unknown option '--bogus'/);
    });
  });

  describe("with a directory that cannot be written", () => {
    const places = ["/proc/certrotor-test/state", "/dev/null/certrotor", "/sys/certrotor-test"];

    it("refuses a state dir under /proc, /dev/null or /sys at once, before any step", {
      timeout: 60_000,
    }, async () => {
      const configs = await Promise.all(
        places.map((dir) =>
          withConfig((c) => {
            c.stateDir = dir;
          }),
        ),
      );
      const lines = await refusals(
        configs.map((config) => ({
          args: ["rotate", "cred-0", "--inline", "--config", config],
          code: "PATH_NOT_WRITABLE",
        })),
      );
      lines.forEach((line, i) => {
        assert.ok(line.includes(`stateDir ${places[i]} cannot be created or written`), line);
      });
    });

    it("refuses a file store dir there at once, with no mkdir loop and no retrying", {
      timeout: 60_000,
    }, async () => {
      const configs = await Promise.all(
        places.map((dir) =>
          withConfig((c) => {
            (c.stores.main as { dir: string }).dir = dir;
          }),
        ),
      );
      const lines = await refusals(
        configs.map((config) => ({ args: ["scan", "--config", config], code: "PATH_NOT_WRITABLE" })),
      );
      lines.forEach((line, i) => {
        assert.ok(line.includes(`stores.main.dir ${places[i]} cannot be created or written`), line);
      });
    });
  });
});
