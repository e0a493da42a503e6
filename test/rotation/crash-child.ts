/**
 * Child process for the crash-safety test: runs one inline rotation of a credential and SIGKILLs itself
 * at the named hook point (a step boundary or the middle of a step's external call), as a crash would.
 * argv: <config.json> <credentialId> <rotationId> <point>
 */
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";
import { runRotation } from "../../src/rotation/run.js";
import { createRuntime } from "../../src/runtime.js";

const [configPath, credentialId, rotationId, point] = process.argv.slice(2);
const config = await loadConfig(configPath!);
const runtime = await createRuntime(config, {
  logger: createLogger({ level: "silent" }),
  hooks: {
    at(reached) {
      if (reached === point) process.kill(process.pid, "SIGKILL");
    },
  },
});
const credential = await runtime.credential(credentialId!);
const result = await runRotation(runtime.depsFor(credential), credential, {
  trigger: "inline",
  force: true,
  rotationId: rotationId!,
});
process.stdout.write(`${JSON.stringify({ status: result.status })}\n`);
await runtime.close();
