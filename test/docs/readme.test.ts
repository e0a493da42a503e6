import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

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

  it("is what .ci/run runs: the quick start's test command", () => {
    const ci = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");
    assert.match(ci, /^npm test$/m);
  });

  it("stays short: about 300 lines, the rest in docs/", () => {
    const lines = readme.split("\n").length;
    assert.ok(lines <= 320, `README.md has ${lines} lines: move the detail into docs/`);
  });

  it("has the tutorial, the saga, the architecture and the way into docs/", () => {
    for (const heading of ["## Tutorial", "## How a rotation works", "## Architecture", "## Documentation"]) {
      assert.ok(readme.includes(`\n${heading}`), `a "${heading}" section`);
    }
  });
});
