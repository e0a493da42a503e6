import type { Command } from "commander";

type Register = (program: Command) => void;

/**
 * Every command, by the name it is called with, and how to load its module. A command's module is loaded
 * only when it is the one run (all of them for --help or an unknown name): each pulls in what it needs
 * (the AWS SDK, BullMQ, fastify, the sandbox…), and a CLI start that loads every one of them costs seconds.
 * Add a command by adding its module here (no import side effects).
 */
export const commands: Record<string, () => Promise<Register>> = {
  demo: async () => (await import("./demo.js")).register,
  worker: async () => (await import("./worker.js")).register,
  rotate: async () => (await import("./rotate.js")).register,
  import: async () => (await import("./import.js")).register,
  issuer: async () => (await import("./issuer.js")).register,
  export: async () => (await import("./export.js")).register,
  rollback: async () => (await import("./rollback.js")).register,
  scan: async () => (await import("./scan.js")).register,
  status: async () => (await import("./status.js")).register,
  "retire-due": async () => (await import("./retire-due.js")).register,
  sandbox: async () => (await import("./sandbox.js")).register,
  alert: async () => (await import("./alert.js")).register,
  console: async () => (await import("./console.js")).register,
  task: async () => (await import("./task.js")).register,
};

/** The command `argv` runs: its first word that is not an option (nor --log-level's value). */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--log-level") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/** The registers to load for `argv`: its command's alone when it names one, else every command's. */
export async function registersFor(argv: readonly string[]): Promise<Register[]> {
  const name = commandName(argv);
  if (name === undefined && (argv.includes("--version") || argv.includes("-V"))) return [];
  const chosen =
    name !== undefined && Object.hasOwn(commands, name) ? [commands[name]!] : Object.values(commands);
  return Promise.all(chosen.map((load) => load()));
}
