/**
 * The generated tables of docs/ say what the code says: each block is rendered again from the code (the
 * error registry, the metrics registry, the command registry, the config schema) and compared with the
 * file. A difference names the command that rewrites them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readBlock, REGENERATE } from "../../scripts/docs/blocks.js";
import { configRows } from "../../scripts/docs/config-reference.js";
import { metricRows } from "../../scripts/docs/metrics-table.js";
import { TARGETS } from "../../scripts/docs/targets.js";
import { parseConfig } from "../../src/config/load.js";
import { ERROR_CODES } from "../../src/errors.js";
import { read } from "./markdown.js";

describe("generated docs", () => {
  for (const target of TARGETS) {
    it(`${target.file}: the ${target.block} table matches the code`, async () => {
      const block = readBlock(read(target.file), target.block);
      assert.ok(block !== undefined, `${target.file} lost its "${target.block}" markers`);
      assert.equal(block, (await target.render()).trim(), `${target.file} is stale: run \`${REGENERATE}\``);
    });
  }

  it("list every error code with its retryability", () => {
    const errors = read("docs/errors.md");
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      assert.ok(
        errors.includes(`| \`${code}\` | ${spec.retryable ? "yes" : "no"} |`),
        `docs/errors.md lacks ${code}`,
      );
    }
  });

  it("explain what the values of every metric mean", async () => {
    const metrics = read("docs/metrics.md");
    for (const row of await metricRows()) {
      assert.ok(
        metrics.includes(`- \`${row.name}\`:`),
        `docs/metrics.md: say what ${row.name}'s values mean`,
      );
    }
  });

  it("give every config field a meaning (the generator refuses to leave one out)", () => {
    const rows = configRows();
    assert.ok(rows.length > 150, `${rows.length} config fields`);
    assert.deepEqual(
      rows.filter((row) => !row.doc).map((row) => row.key),
      [],
      "fields without a meaning in scripts/docs/config-fields.ts",
    );
  });
});

describe("the example config of docs/configuration.md", () => {
  it("loads as it is written (each environment reference given a value)", () => {
    const text = /```yaml\n([\s\S]*?)```/.exec(read("docs/configuration.md"))?.[1];
    assert.ok(text, "docs/configuration.md opens with a YAML example");
    const env: NodeJS.ProcessEnv = {};
    for (const [, name] of text.matchAll(/\$\{(\w+)/g)) env[name!] = "an-example-value-0123456789";
    env.REDIS_URL = "redis://127.0.0.1:6379";
    const config = parseConfig(text, "docs/configuration.md", env);
    assert.ok(config.credentials.length > 0);
  });
});
