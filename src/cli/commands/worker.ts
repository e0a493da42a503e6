import type { Command } from "commander";
import { loadConfig } from "../../config/load.js";
import { isCertrotorError } from "../../errors.js";
import { startWorker, type WorkerHandle } from "../../../jobs/worker.js";
import { portArg } from "../args.js";
import { addConfigOption, makeLogger } from "../context.js";

/**
 * SIGTERM and SIGINT are taken before the worker starts: its queue workers fetch jobs as soon as they
 * exist, so a signal during start-up (a rolling deploy, a supervisor stopping a worker that just came
 * up) must also end in a graceful stop rather than in Node's default death mid-job. The first signal
 * stops the worker; a second one gets the default action (exit at once).
 */
function awaitStopSignal(): { signalled: Promise<NodeJS.Signals>; aborted: AbortSignal; release(): void } {
  const abort = new AbortController();
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      release();
      abort.abort();
      resolve(signal);
    };
  });
  const release = (): void => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return { signalled, aborted: abort.signal, release };
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("worker")
      .description(
        "Run the queue processors (scan, rotate, retire, notify), the cron schedulers and /healthz /readyz /metrics",
      )
      .option(
        "--port <n>",
        "health/metrics port, 0 for a free one (default: worker.port from config)",
        portArg,
      )
      .option("--host <address>", "address of the health/metrics server (default: worker.host from config)"),
  ).action(async (options: { config: string; port?: number; host?: string }) => {
    const config = await loadConfig(options.config);
    const logger = makeLogger(program, config);
    const stop = awaitStopSignal();
    process.stderr.write("certrotor worker: starting\n");
    // The AWS SDK's own multi-line notice is silenced (bin/certrotor.js); the worker says it once, as a log line.
    const nodeMajor = Number(process.versions.node.split(".")[0]);
    if (nodeMajor < 22 && Object.values(config.stores).some((store) => store.kind === "aws")) {
      logger.warn(
        { node: process.versions.node },
        "AWS SDK releases after the first week of January 2027 require Node 22: run the image's Node 22 (docs/deploy/container.md)",
      );
    }
    let handle: WorkerHandle;
    try {
      handle = await startWorker(config, {
        logger,
        signal: stop.aborted,
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.host !== undefined ? { host: options.host } : {}),
      });
    } catch (error) {
      stop.release();
      // stopped while it waited for Redis: nothing had started, so this is a clean stop
      if (stop.aborted.aborted && isCertrotorError(error, "REDIS_UNAVAILABLE")) {
        process.stderr.write("certrotor worker: stopped before it started\n");
        return;
      }
      throw error;
    }
    process.stderr.write(
      `certrotor worker: listening on :${handle.port} (/healthz, /readyz, /metrics)${handle.console ? `, console on ${handle.console.url}` : ""}; Ctrl-C to stop\n`,
    );
    const signal = await stop.signalled;
    logger.info({ signal }, "shutting down");
    try {
      await handle.stop();
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, "shutdown failed");
      process.exitCode = 70;
    }
  });
}
