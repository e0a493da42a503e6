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
 */
import { writeSync } from "node:fs";
import { startWorker } from "../../jobs/worker.js";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";

const [configPath, point] = process.argv.slice(2);
const say = (line: string): void => void writeSync(1, `stall-child: ${line}\n`);

const config = await loadConfig(configPath!);
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
