/**
 * `certrotor agent`: writes a credential's current material as files and keeps them current, telling the
 * consumer on each change (src/agent/). It needs the credential's store and nothing else of the config:
 * no Redis, no bank, no issuer. See docs/consumers/agent.md.
 */
import { constants } from "node:os";
import { type Command, InvalidArgumentError } from "commander";
import { loadConfig } from "../../config/load.js";
import type { Config } from "../../config/schema.js";
import { CertrotorError } from "../../errors.js";
import { execNotifier, type Notifier, signalNotifier } from "../../agent/notify.js";
import { type AgentLogger, type AgentOptions, startAgent, writeOnce } from "../../agent/run.js";
import type { WriteHooks } from "../../agent/write.js";
import { type ResolvedCredential, resolveCredential } from "../../rotation/credentials.js";
import { createStore } from "../../stores/index.js";
import type { SecretStore } from "../../stores/types.js";
import { intArg } from "../args.js";
import { addConfigOption, makeLogger } from "../context.js";

interface AgentCliOptions {
  config: string;
  credential: string;
  out: string;
  exec?: string;
  signal?: NodeJS.Signals;
  pidFile?: string;
  interval?: number;
  once?: boolean;
}

/** A signal name, with or without its SIG prefix ("HUP", "SIGHUP"). */
function signalArg(value: string): NodeJS.Signals {
  const name = (value.toUpperCase().startsWith("SIG") ? value : `SIG${value}`).toUpperCase();
  if (!Object.hasOwn(constants.signals, name) || name === "SIGKILL" || name === "SIGSTOP")
    throw new InvalidArgumentError(`expected a signal name like HUP or SIGUSR1, got "${value}"`);
  return name as NodeJS.Signals;
}

function notifierOf(options: AgentCliOptions, logger: AgentLogger): Notifier | undefined {
  if (options.exec !== undefined) return execNotifier(options.exec, options.out, logger);
  if (options.signal !== undefined) return signalNotifier(options.signal, options.pidFile!, logger);
  return undefined;
}

/** The one-line refusals of option combinations, before anything is read or written. */
function checkCombination(options: AgentCliOptions): void {
  const bad = (message: string, hint: string): CertrotorError =>
    new CertrotorError("BAD_ARGUMENT", message, { hint });
  if (options.exec !== undefined && options.signal !== undefined)
    throw bad(
      "--exec and --signal are two ways of telling the consumer: give one",
      "keep --exec, or --signal with --pid-file",
    );
  if (options.signal !== undefined && options.pidFile === undefined)
    throw bad(
      `--signal ${options.signal} needs --pid-file, the file holding the consumer's process id`,
      "add --pid-file FILE",
    );
  if (options.pidFile !== undefined && options.signal === undefined)
    throw bad(
      "--pid-file is only used with --signal",
      "add --signal HUP (or the signal your consumer reloads on)",
    );
  if (options.exec !== undefined && !options.exec.trim())
    throw bad("--exec is empty", "give the command to run after each change, e.g. --exec 'nginx -s reload'");
}

/**
 * The credential by id, configured or discovered. Discovery lists the stores of its rules: only those
 * are opened, and closed again.
 */
async function credentialOf(
  config: Readonly<Config>,
  id: string,
  logger: AgentLogger,
): Promise<ResolvedCredential> {
  const stores = new Map<string, SecretStore>();
  try {
    for (const name of new Set(config.discovery.map((rule) => rule.store))) {
      const store = config.stores[name];
      if (store) stores.set(name, await createStore(name, store, { logger }));
    }
    return await resolveCredential(config, stores, id);
  } finally {
    for (const store of stores.values()) await store.close().catch(() => undefined);
  }
}

/** Test-only (docs/consumers/agent.md): pause the writer before renaming this file, for the crash test. */
function testHooks(): WriteHooks {
  const pauseAt = process.env.CERTROTOR_TEST_AGENT_PAUSE_BEFORE_RENAME;
  if (!pauseAt) return {};
  return {
    beforeRename: async (name) => {
      if (name !== pauseAt) return;
      process.stderr.write(`certrotor agent: test pause before renaming ${name}\n`);
      await new Promise(() => setInterval(() => undefined, 60_000)); // until killed
    },
  };
}

function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("agent")
      .description(
        "Write a credential's current material as files (PEM, key, chain, PKCS#12) and keep them current: on each change run --exec or --signal the consumer",
      )
      .requiredOption("--credential <id>", "the credential to follow (configured or discovered)")
      .requiredOption("--out <dir>", "directory of the files (created, mode 0700; one agent per directory)")
      .option(
        "--exec <command>",
        "run after each change, through sh -c (its exit status is logged, not fatal)",
      )
      .option(
        "--signal <name>",
        "send this signal (e.g. HUP) after each change to the process in --pid-file",
        signalArg,
      )
      .option(
        "--pid-file <file>",
        "with --signal: the file holding the consumer's process id (read at each change)",
      )
      .option(
        "--interval <ms>",
        "poll interval in milliseconds (default 2000, certrotor/client's)",
        intArg(10, 86_400_000),
      )
      .option("--once", "write the files and exit (an init container)"),
  ).action(async (options: AgentCliOptions) => {
    checkCombination(options);
    const config = await loadConfig(options.config);
    const logger = makeLogger(program, config);
    const credential = await credentialOf(config, options.credential, logger);
    const store = config.stores[credential.store];
    if (!store)
      throw new CertrotorError(
        "CONFIG_INVALID",
        `credential "${credential.id}": store "${credential.store}" is not configured`,
      );
    const agentOptions: AgentOptions = {
      credentialId: credential.id,
      watch: {
        store,
        storeName: credential.store,
        credential: {
          path: credential.ref.path,
          ...(credential.ref.fieldMap ? { fieldMap: credential.ref.fieldMap } : {}),
        },
        ...(options.interval !== undefined ? { everyMs: options.interval } : {}),
      },
      dir: options.out,
      logger,
      hooks: testHooks(),
    };
    const notify = notifierOf(options, logger);
    if (notify) agentOptions.notify = notify;
    if (options.once) {
      const { material } = await writeOnce(agentOptions);
      process.stdout.write(
        `certrotor agent: ${options.out} holds ${credential.id}'s certificate ${material.fingerprint.slice(0, 16)}… (valid until ${material.notAfter})\n`,
      );
      return;
    }
    const stopped = stopSignal();
    const agent = await startAgent(agentOptions);
    process.stderr.write(`certrotor agent: following ${credential.id} into ${options.out}\n`);
    const signal = await stopped;
    await agent.close();
    process.stderr.write(`certrotor agent: stopped (${signal})\n`);
  });
}
