/**
 * The `certrotor` command line. Each command lives in src/cli/commands/<name>.ts and exports
 * `register(program)`. Errors end as one clear line on stderr and a documented exit code.
 */
import { Command, CommanderError } from "commander";
import { LOG_LEVELS } from "../config/constants.js";
import { enumArg } from "./args.js";
import { exitCodeFor, formatCliError } from "./errors.js";
import { registersFor } from "./commands/index.js";
import { packageVersion } from "./version.js";

/**
 * Commander's own usage errors (unknown option, missing argument, a value an argParser refused) in the
 * one-line form of every other error. Set before the commands are added, so each inherits it.
 */
function usageErrorLine(text: string): string {
  const what = text
    .trim()
    .replace(/^error:\s*/i, "")
    .split("\n")[0]!
    // commander quotes the refused value: a URL's user:password part is not repeated
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@']*@/gi, "$1***@");
  return `certrotor: BAD_ARGUMENT: ${what} (hint: certrotor --help, or certrotor <command> --help)\n`;
}

/** The program with the commands `argv` needs (every one when it names none: help, unknown names). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("certrotor")
    .description("Keeps the mTLS client certificates of bank API credentials valid, with zero downtime.")
    .version(packageVersion(), "-V, --version", "print certrotor's version")
    .option(
      "--log-level <level>",
      `${LOG_LEVELS.join("|")} (default from config, else info)`,
      enumArg(LOG_LEVELS),
    )
    .configureOutput({ outputError: (text, write) => write(usageErrorLine(text)) })
    .exitOverride();
  for (const register of await registersFor(argv)) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed help or the usage error
      return error.exitCode === 0 ? 0 : 64;
    }
    process.stderr.write(`${formatCliError(error)}\n`);
    return exitCodeFor(error);
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
