import type { Command } from "commander";
import { loadConfig } from "../../config/load.js";
import { startWorker } from "../../queue/worker.js";
import { addConfigOption, makeLogger } from "../context.js";

export function register(program: Command): void {
  addConfigOption(
    program
      .command("worker")
      .description(
        "Run the queue processors (scan, rotate, retire, notify), the cron schedulers and /healthz /readyz /metrics",
      )
      .option("--port <n>", "health/metrics port (default: worker.port from config)"),
  ).action(async (options: { config: string; port?: string }) => {
    const config = await loadConfig(options.config);
    const logger = makeLogger(program, config);
    const handle = await startWorker(config, {
      logger,
      ...(options.port !== undefined ? { port: Number.parseInt(options.port, 10) } : {}),
    });
    process.stderr.write(
      `certrotor worker: listening on :${handle.port} (/healthz, /readyz, /metrics); Ctrl-C to stop\n`,
    );
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        logger.info({ signal }, "shutting down");
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
        handle.stop().then(resolve, (error: unknown) => {
          logger.error({ err: error instanceof Error ? error.message : String(error) }, "shutdown failed");
          process.exitCode = 70;
          resolve();
        });
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
    });
  });
}
