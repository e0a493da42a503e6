/**
 * What every config-driven command shares: load the config (once, at the edge), build the logger and
 * the runtime, run, and close everything whatever happens.
 */
import type { Command } from "commander";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { createLogger, type Logger } from "../observability/logger.js";
import type { RotationHooks } from "../rotation/context.js";
import { createRuntime, type Runtime } from "../runtime.js";

export const DEFAULT_CONFIG = process.env.CERTROTOR_CONFIG ?? "certrotor.yaml";

export function addConfigOption(command: Command): Command {
  return command.option("-c, --config <file>", "config file (env CERTROTOR_CONFIG)", DEFAULT_CONFIG);
}

/** The global --log-level, else the config's, else info. Logs go to stderr so stdout stays for results. */
export function makeLogger(program: Command, config?: Config, fallback = "info"): Logger {
  const level = (program.opts() as { logLevel?: string }).logLevel ?? config?.log.level ?? fallback;
  return createLogger({ level, fd: 2 });
}

export async function withRuntime<T>(
  program: Command,
  configPath: string,
  run: (runtime: Runtime) => Promise<T>,
  options: { hooks?: RotationHooks } = {},
): Promise<T> {
  const config = await loadConfig(configPath);
  const logger = makeLogger(program, config);
  const runtime = await createRuntime(config, { logger, ...(options.hooks ? { hooks: options.hooks } : {}) });
  try {
    return await run(runtime);
  } finally {
    await runtime.close();
  }
}
