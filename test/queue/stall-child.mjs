/**
 * Child process for the stall tests: a queue worker (the product's startWorker, as `certrotor worker` runs
 * it) that stops itself with SIGSTOP the first time a rotation reaches the named hook point, as a process
 * paused by the kernel, a VM migration or a long GC would. After SIGCONT it goes on where it was.
 * Every line it prints is a marker the test waits on:
 *   "stall-child: listening"            the health server listens and the queue workers run
 *   "stall-child: paused at <point>"    printed right before the SIGSTOP
 *   "stall-child: reached <point>"      each hook point reached after the pause
 * Its log (warn and above, JSON lines) goes to stdout too.
 * argv: <config.json> <point>
 *
 * Plain JavaScript, so that under `npm test` it runs on the CLI compiled for the run (CERTROTOR_TEST_CLI)
 * without tsx (see ../rotation/crash-child.mjs); started with tsx, it imports the sources.
 */
import { writeSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const compiled = process.env.CERTROTOR_TEST_CLI;
const base = compiled ? pathToFileURL(join(compiled, "dist", "/")) : new URL("../../", import.meta.url);
const load = (path) => import(new URL(path, base).href);
const [{ startWorker }, { loadConfig }, { createLogger }] = await Promise.all([
  load("jobs/worker.js"),
  load("src/config/load.js"),
  load("src/observability/logger.js"),
]);

const [configPath, point] = process.argv.slice(2);
const say = (line) => void writeSync(1, `stall-child: ${line}\n`);

const config = await loadConfig(configPath);
let paused = false;
const worker = await startWorker(config, {
  logger: createLogger({ level: "warn" }),
  port: 0,
  host: "127.0.0.1",
  schedules: false,
  hooks: {
    at(reached) {
      if (paused) return say(`reached ${reached}`);
      if (reached !== point) return;
      paused = true;
      say(`paused at ${reached}`);
      process.kill(process.pid, "SIGSTOP");
    },
  },
});
say("listening");
process.once("SIGTERM", () => void worker.stop().then(() => process.exit(0)));
