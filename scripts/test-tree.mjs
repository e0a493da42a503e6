// The tree `npm test` runs the suite from: a temporary copy of the repository in which every TypeScript
// file of src/, jobs/, test/, bench/ and scripts/ also exists as JavaScript, transpiled once by esbuild
// (types stripped, nothing bundled), so no test file's process loads tsx: with 150 files that was about
// a second of CPU each. The .ts files are copied beside their .js (fixtures started with `--import tsx`
// and tests that read sources still find them); bin/ is copied too (tests copy it into an image layout);
// everything else is a symlink to the checkout. Inline source maps point back to the checkout's files.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { transformSync } from "esbuild";

const TRANSPILED = new Set(["src", "jobs", "test", "bench", "scripts"]);
const COPIED = new Set(["bin"]);

function copyDir(from, to, transpile) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      copyDir(source, target, transpile);
      continue;
    }
    const stat = statSync(source);
    const content = readFileSync(source);
    writeFileSync(target, content);
    // build-freshness compares modification times: the copies keep the checkout's
    utimesSync(target, stat.atime, stat.mtime);
    if (transpile && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
      const { code } = transformSync(content.toString("utf8"), {
        loader: "ts",
        format: "esm",
        target: "node20",
        sourcemap: "inline",
        sourcefile: source,
      });
      writeFileSync(target.replace(/\.ts$/, ".js"), code);
    }
  }
}

/** Builds the tree for the checkout at `root`; returns its path (the caller removes it). */
export function buildTestTree(root = ".") {
  const checkout = resolve(root);
  const tree = mkdtempSync(join(tmpdir(), "certrotor-test-tree-"));
  for (const entry of readdirSync(checkout)) {
    const source = join(checkout, entry);
    if (TRANSPILED.has(entry) || COPIED.has(entry)) copyDir(source, join(tree, entry), TRANSPILED.has(entry));
    else symlinkSync(source, join(tree, entry));
  }
  return tree;
}
