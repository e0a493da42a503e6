/**
 * Child process for the crash-safety tests: runs one inline rotation of a credential and SIGKILLs itself
 * at the named hook point (a step boundary or the middle of a step's external call), as a crash would.
 * argv: <config.json> <credentialId> <rotationId> <point>
 *
 * Plain JavaScript, so that under `npm test` it runs on the CLI compiled for the run (CERTROTOR_TEST_CLI)
 * without tsx: the crash tests start dozens of these, and loading the sources through tsx costs each
 * about a second of CPU. Run on its own (tsx loaded by crash-kill.ts), it imports the sources.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const compiled = process.env.CERTROTOR_TEST_CLI;
const base = compiled ? pathToFileURL(join(compiled, "dist", "/")) : new URL("../../", import.meta.url);
const load = (path) => import(new URL(path, base).href);

const [{ loadConfig }, { createLogger }, { runRotation }, { createRuntime }] = await Promise.all([
  load("src/config/load.js"),
  load("src/observability/logger.js"),
  load("src/rotation/run.js"),
  load("src/runtime.js"),
]);

const [configPath, credentialId, rotationId, point] = process.argv.slice(2);
const config = await loadConfig(configPath);
const runtime = await createRuntime(config, {
  logger: createLogger({ level: "silent" }),
  hooks: {
    at(reached) {
      if (reached === point) process.kill(process.pid, "SIGKILL");
    },
  },
});
const credential = await runtime.credential(credentialId);
const result = await runRotation(runtime.depsFor(credential), credential, {
  trigger: "inline",
  force: true,
  rotationId,
});
process.stdout.write(`${JSON.stringify({ status: result.status })}\n`);
await runtime.close();
