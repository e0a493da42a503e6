/**
 * `npm run emulator -- <vault|aws> [options]`: serves a wire-level emulator until stopped.
 * Each emulator folder exports `serveFromArgs(argv)`, which parses its own flags and prints its address.
 */
const [name, ...rest] = process.argv.slice(2);
const emulators: Record<string, () => Promise<{ serveFromArgs(argv: string[]): Promise<void> }>> = {
  vault: () => import("./vault/serve.js"),
  aws: () => import("./aws/serve.js"),
};
const load = name ? emulators[name] : undefined;
if (!load) {
  console.error(
    `usage: npm run emulator -- <${Object.keys(emulators).join("|")}> [options] (got "${name ?? ""}")`,
  );
  process.exit(2);
}
try {
  await (await load()).serveFromArgs(rest);
} catch (error) {
  console.error(`emulator ${name}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
