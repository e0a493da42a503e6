/**
 * Discovered credentials: ids derived from store paths must be unique (two paths with one id, or a path
 * whose id a configured credential has, are a config error naming both, through the real CLI), and a
 * discovered credential is rebuilt from where it was found (a job's reference) without listing, falling
 * back to listing when the config no longer matches the reference.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Config } from "../../src/config/schema.js";
import { isCertrotorError } from "../../src/errors.js";
import {
  discoveryRuleKey,
  knownCredential,
  listCredentials,
  resolveCredential,
} from "../../src/rotation/credentials.js";
import { createStore } from "../../src/stores/index.js";
import type { SecretStore } from "../../src/stores/types.js";
import { certrotor } from "../fixtures/cli.js";
import { aWorld, type TestWorld, withWorldFileStore, worldDiscovery } from "../fixtures/world.js";
import { writeConfig } from "../queue/helpers.js";

const rule = worldDiscovery({ attempts: 9, backoff: 120_000 });

/** The world's credentials found by discovery instead of configured (paths certrotor/cred-<i>). */
function discovering(world: TestWorld, credentials: Config["credentials"] = []): Config {
  return { ...world.config, credentials, discovery: [rule] };
}

/** Copies the material at `from` to a new path `to` of the world's file store. */
async function copy(world: TestWorld, from: string, to: string): Promise<void> {
  await withWorldFileStore(world, async (store) => {
    const { material } = await store.readCurrent({ credentialId: from, path: from });
    await store.putCurrent({ credentialId: to, path: to }, material);
  });
}

async function withStores<T>(config: Config, use: (stores: Map<string, SecretStore>) => Promise<T>) {
  const stores = new Map([["main", await createStore("main", config.stores.main!)]]);
  try {
    return await use(stores);
  } finally {
    for (const store of stores.values()) await store.close();
  }
}

describe("discovered credential ids", () => {
  it("refuses two discovered paths that derive one id, naming both (certrotor scan: one line, exit 64)", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 2 });
    try {
      // "certrotor/cred/1" and "certrotor/cred-1" both become "certrotor-cred-1"
      await copy(world, "certrotor/cred-1", "certrotor/cred/1");
      const config = discovering(world);
      const run = await certrotor("scan", "--no-bank", "--config", await writeConfig(world.dir, config));
      assert.equal(run.code, 64, run.stderr);
      assert.equal(run.stdout, "");
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, /^certrotor: CONFIG_INVALID: discovery: /);
      assert.match(lines[0]!, /path "certrotor\/cred-1"/);
      assert.match(lines[0]!, /path "certrotor\/cred\/1"/);
      assert.match(lines[0]!, /"certrotor-cred-1"/);
      assert.match(lines[0]!, /\(hint: /);

      await withStores(config, async (stores) => {
        await assert.rejects(listCredentials(config, stores), (error: unknown) => {
          assert.ok(isCertrotorError(error, "CONFIG_INVALID"));
          assert.equal(error.details?.credentialId, "certrotor-cred-1");
          return true;
        });
      });
    } finally {
      await world.stop();
    }
  });

  it("refuses a discovered path whose id a configured credential has, and leaves a configured path configured", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 3 });
    try {
      const [cred0] = world.config.credentials;
      // configured under the id that discovery derives for certrotor/cred-1, but at certrotor/cred-0
      const configured = [{ ...cred0!, id: "certrotor-cred-1" }];
      const config = discovering(world, configured);
      const run = await certrotor("scan", "--no-bank", "--config", await writeConfig(world.dir, config));
      assert.equal(run.code, 64, run.stderr);
      assert.match(
        run.stderr,
        /^certrotor: CONFIG_INVALID: discovery: store "main" path "certrotor\/cred-1" derives the credential id "certrotor-cred-1" of a configured credential \(store "main" path "certrotor\/cred-0"\)/,
      );

      // without the clash: certrotor/cred-0 stays the configured credential, the others are discovered
      const fine = discovering(world, [{ ...cred0!, id: "payments" }]);
      await withStores(fine, async (stores) => {
        const listed = await listCredentials(fine, stores);
        assert.deepEqual(
          listed.map((c) => [c.id, c.ref.path, c.discovery !== undefined]),
          [
            ["payments", "certrotor/cred-0", false],
            ["certrotor-cred-1", "certrotor/cred-1", true],
            ["certrotor-cred-2", "certrotor/cred-2", true],
          ],
        );
      });
    } finally {
      await world.stop();
    }
  });
});

describe("a discovered credential rebuilt from its reference", () => {
  it("equals the listed one, with the rule's policy; a reference the config no longer matches falls back to listing", async () => {
    const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 2 });
    try {
      const config = discovering(world);
      await withStores(config, async (stores) => {
        const listed = await listCredentials(config, stores);
        const one = listed.find((c) => c.id === "certrotor-cred-1")!;
        assert.deepEqual(one.discovery, {
          rule: discoveryRuleKey(rule),
          store: "main",
          path: "certrotor/cred-1",
        });
        assert.equal(one.policy.attempts, 9);
        assert.equal(one.policy.backoff, 120_000);
        assert.deepEqual(knownCredential(config, one.id, one.discovery), one);

        // the rule's other settings changed (bank, renewal): same key, the new settings
        const retuned: Config = { ...config, discovery: [{ ...rule, renewal: { attempts: 2 } }] };
        assert.equal(knownCredential(retuned, one.id, one.discovery)?.policy.attempts, 2);

        // what the rule selects changed, the id does not match the path, a configured credential owns the path
        const moved: Config = { ...config, discovery: [{ ...rule, prefix: "certrotor/c" }] };
        assert.equal(knownCredential(moved, one.id, one.discovery), undefined);
        assert.equal(knownCredential(config, "certrotor-cred-0", one.discovery), undefined);
        const owned: Config = { ...config, credentials: [{ ...world.config.credentials[1]!, id: "owner" }] };
        assert.equal(knownCredential(owned, one.id, one.discovery), undefined);

        // resolving with a stale reference lists, and finds the credential as the new config has it
        const found = await resolveCredential(moved, stores, one.id, one.discovery);
        assert.equal(found.discovery?.rule, discoveryRuleKey(moved.discovery[0]!));
        await assert.rejects(resolveCredential(owned, stores, one.id, one.discovery), (error: unknown) =>
          isCertrotorError(error, "UNKNOWN_CREDENTIAL"),
        );
      });
    } finally {
      await world.stop();
    }
  });
});
