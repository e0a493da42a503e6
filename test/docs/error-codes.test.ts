/**
 * Every documented error code is one certrotor raises: a code in src/errors.ts (and so in README's table)
 * that no source file names is a promise to operators nothing keeps. Read from the sources, as the
 * logger's redaction test reads them.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ERROR_CODES } from "../../src/errors.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The registry itself, and the CLI's table of exit codes per error code. */
const REGISTRIES = new Set(["src/errors.ts", "src/cli/errors.ts"]);
/**
 * Documented but not raised: none. (STEP_TIMEOUT was removed: every step is bounded by the timeouts of the
 * calls it makes, and a timer around a step cannot stop the effect it is waiting for.)
 */
const AWAITING = new Set<string>();

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) yield* sources(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

describe("error codes", () => {
  it("are each raised somewhere in src/ or jobs/", () => {
    const text = [...sources("src"), ...sources("jobs")]
      .filter((path) => !REGISTRIES.has(path))
      .map((path) => readFileSync(join(ROOT, path), "utf8"))
      .join("\n");
    const unraised = Object.keys(ERROR_CODES).filter(
      (code) => !AWAITING.has(code) && !text.includes(`"${code}"`),
    );
    assert.deepEqual(unraised, [], "documented codes nothing raises: raise them or remove them");
    for (const code of AWAITING) {
      assert.ok(code in ERROR_CODES, `${code} is no longer documented: drop it from AWAITING`);
      assert.ok(!text.includes(`"${code}"`), `${code} is raised now: drop it from AWAITING`);
    }
  });
});
