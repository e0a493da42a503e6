#!/usr/bin/env node
// Entry point of the `certrotor` command. Runs the compiled CLI when `npm run build` produced it,
// otherwise the TypeScript sources through tsx (so `npm ci && npx certrotor demo` needs no build step).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "dist", "src", "cli", "main.js");
if (process.env.CERTROTOR_FROM_SOURCE !== "1" && existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
