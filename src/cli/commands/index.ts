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
  agent: async () => (await import("./agent.js")).register,
  rollback: async () => (await import("./rollback.js")).register,
  scan: async () => (await import("./scan.js")).register,
  status: async () => (await import("./status.js")).register,
  "retire-due": async () => (await import("./retire-due.js")).register,
  sandbox: async () => (await import("./sandbox.js")).register,
  alert: async () => (await import("./alert.js")).register,
  console: async () => (await import("./console.js")).register,
  task: async () => (await import("./task.js")).register,
};

/**
 * What top-level help lists of each command: its term (name, "[options]" when it has any, arguments) and
 * description. `certrotor --help`, `help` and an unknown name list these stubs and load no command module
 * (test/cli/startup.test.ts checks them against the modules, and that help prints the same text).
 */
export const summaries: Record<string, [term: string, description: string]> = {
  demo: [
    "demo [options]",
    "Run the whole product on embedded defaults: sandbox bank, private CA, file store; scan → rotate → verify → promote → retire",
  ],
  worker: [
    "worker [options]",
    "Run the queue processors (scan, rotate, retire, notify), the cron schedulers and /healthz /readyz /metrics",
  ],
  rotate: [
    "rotate [options] <credential>",
    "Rotate one credential on demand: queued for the workers, or --inline in this process without Redis",
  ],
  import: [
    "import [options] <credential>",
    "Bring a credential's existing certificate, key and client secret into its store as current (checked, then proven with a token call)",
  ],
  issuer: ["issuer", "The issuers' own material"],
  export: [
    "export [options] <credential>",
    "Write a credential's current certificate, chain and a summary to files (--include-key: also its key and a PKCS#12, mode 0600)",
  ],
  agent: [
    "agent [options]",
    "Write a credential's current material as files (PEM, key, chain, PKCS#12) and keep them current: on each change run --exec or --signal the consumer",
  ],
  rollback: [
    "rollback [options] <credential>",
    "Put the previous material back as current (compare-and-set), rebinding its certificate at the bank if it was unbound",
  ],
  scan: [
    "scan [options]",
    "Report every managed credential: expiry, bound slots, decision, drift. Exit 0 fine, 1 due, 2 broken/expired",
  ],
  status: [
    "status [options] [credential]",
    "Current material, bank slots, renewal decision, last rotations and next schedules",
  ],
  "retire-due": [
    "retire-due [options]",
    "Unbind old certificates whose grace period has passed (what the worker's retire job does)",
  ],
  sandbox: ["sandbox", "The bank sandbox: run it (the default, `serve`), or act at its portal (`portal`)"],
  alert: ["alert", "Alert channels"],
  console: [
    "console [options]",
    "Serve the ops console (fleet, timeline, credentials, actions, /calendar.ics) from the shared state",
  ],
  task: ["task", "Human tasks of portal banks: list, show, complete, cancel"],
};

/** A command as help lists it; never run (a named command loads its module instead). */
function stub(name: string): Register {
  const [term, description] = summaries[name]!;
  // "[options]" in the term is an argument name only here: it prints as the real command's term does
  return (program) => void program.command(term).description(description);
}

/** The command `argv` runs: its first word that is not an option (nor --log-level's value). */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--log-level") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/**
 * The registers to load for `argv`: its command's alone when it names one; for `help <command>`, that
 * command's module and the others' stubs; else (help, no command, an unknown name) every command's stub.
 */
export async function registersFor(argv: readonly string[]): Promise<Register[]> {
  const name = commandName(argv);
  if (name === undefined && (argv.includes("--version") || argv.includes("-V"))) return [];
  if (name !== undefined && Object.hasOwn(commands, name)) return [await commands[name]!()];
  const target = name === "help" ? argv[argv.indexOf("help") + 1] : undefined;
  return Promise.all(
    Object.keys(commands).map((each) => (each === target ? commands[each]!() : Promise.resolve(stub(each)))),
  );
}
