// `npm ci` / `npm install` run this (package.json "prepare"): compile the CLI once, so `npx certrotor`
// starts from dist/ (tens of milliseconds) rather than compiling the sources through tsx (about a second).
// One tsc run. A production install has no TypeScript (`npm ci --omit=dev`) and nothing to compile: it
// says so and succeeds; the image copies a dist/ built in its own stage (and installs with --ignore-scripts).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let tsc;
try {
  tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
} catch {
  console.log("certrotor prepare: no TypeScript (a production install): dist/ is not rebuilt");
  process.exit(0);
}
if (!existsSync(join(root, "src"))) process.exit(0);
const built = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
  stdio: "inherit",
});
process.exit(built.status ?? 1);
