import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ERROR_CODES } from "../../src/errors.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README.md", () => {
  it("opens with a two-command quick start: install + demo, then the test command", () => {
    const quickStart = /## Quick start\s+```sh\n([^`]+)```/.exec(readme);
    assert.ok(quickStart, "a Quick start code block");
    const commands = quickStart[1]!.trim().split("\n");
    assert.equal(commands.length, 2);
    assert.match(commands[0]!, /npm ci && npx certrotor demo/);
    assert.equal(commands[1], "npm test");
  });

  it("lists every error code of src/errors.ts with its retryability", () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      assert.ok(
        readme.includes(`| \`${code}\` | ${spec.retryable ? "yes" : "no"} |`),
        `README.md error table lacks ${code}`,
      );
    }
  });

  it("is what .ci/run runs: the quick start's test command", () => {
    const ci = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");
    assert.match(ci, /^npm test$/m);
  });
});
