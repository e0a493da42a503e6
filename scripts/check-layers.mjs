#!/usr/bin/env node
// Layer rule beside the cycle check: jobs/ (the queue processors and the worker that runs them) sits on top
// of src/; nothing in src/ below the CLI imports jobs/. The CLI (src/cli/) is the one entry point that may.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const IMPORT = /(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function* sources(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

const problems = [];
for (const file of sources("src")) {
  if (file.startsWith(join("src", "cli") + "/")) continue;
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(IMPORT)) {
    const target = match[1] ?? match[2];
    if (!target?.startsWith(".")) continue;
    const resolved = relative(".", join(file, "..", target));
    if (resolved === "jobs" || resolved.startsWith("jobs/")) problems.push(`${file}: imports ${target}`);
  }
}
if (problems.length > 0) {
  console.error("layer rule: nothing in src/ below the CLI may import jobs/");
  for (const line of problems) console.error(`  ${line}`);
  process.exit(1);
}
console.log("layer rule: src/ (below the CLI) imports nothing from jobs/");
