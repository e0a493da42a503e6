/**
 * `npm run docs:gen`: rewrites every generated block of docs/ from the code (errors, metrics, CLI
 * commands, config fields). test/docs/generated.test.ts fails when a block differs from what this writes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeBlock } from "./blocks.js";
import { TARGETS } from "./targets.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

for (const target of TARGETS) {
  const path = join(ROOT, target.file);
  const before = readFileSync(path, "utf8");
  const after = writeBlock(before, target.block, await target.render());
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`${target.file}: ${target.block} ${after === before ? "unchanged" : "rewritten"}\n`);
}
