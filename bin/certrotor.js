#!/usr/bin/env node
// Entry point of the `certrotor` command. Runs the compiled CLI when `npm ci` (its prepare script) or
// `npm run build` produced it, otherwise the TypeScript sources through tsx (about a second more per start).
// In a source checkout a dist/ older than any source file is passed over for the sources, so an edit is
// never hidden by an old build. tsx is a dev dependency: a production install (`npm ci --omit=dev`, the
// image) has no src/ and runs dist/ only.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compiledEntry, staleBuild } from "./build-freshness.js";

// The AWS SDK prints a ten-line notice on stderr at its first client on Node < 22, which would break every
// command's one-line error; the worker logs the same fact once instead (src/cli/commands/worker.ts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = compiledEntry(root);

if (process.env.CERTROTOR_FROM_SOURCE !== "1" && existsSync(compiled) && !staleBuild(root)) {
  await import(pathToFileURL(compiled).href);
} else {
  const tsx = await import("tsx/esm/api").catch(() => undefined);
  if (!tsx) {
    console.error(
      "certrotor: cannot start: no compiled CLI in dist/ and no tsx to run the sources (hint: `npm ci && npm run build`, then a production install may drop the dev dependencies)",
    );
    process.exit(70); // EX_SOFTWARE: the installation, not the input, is at fault
  }
  tsx.register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
