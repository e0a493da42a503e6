// Whether a source checkout's dist/ is older than its sources. bin/certrotor.js passes over such a build
// (an edit is never hidden by an old one), and npm test (scripts/run-tests.mjs) reuses a fresh one (the
// one `npm ci`'s prepare script just built) instead of compiling a second time. In bin/ because the
// image ships bin/ and dist/ only, and this runs there too (without src/ it answers "fresh").
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The compiled CLI's entry point under root. */
export const compiledEntry = (root) => join(root, "dist", "src", "cli", "main.js");

/** True when some .ts under src/ or jobs/ changed after dist/ was built (a few ms for ~300 files). */
export function staleBuild(root) {
  if (!existsSync(join(root, "src"))) return false;
  const builtAt = statSync(compiledEntry(root)).mtimeMs;
  for (const dir of ["src", "jobs"]) {
    const files = readdirSync(join(root, dir), { recursive: true });
    for (const file of files) {
      if (String(file).endsWith(".ts") && statSync(join(root, dir, String(file))).mtimeMs > builtAt)
        return true;
    }
  }
  return false;
}
