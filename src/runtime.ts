/**
 * Builds every adapter the config names, once, and hands each rotation the ports of its credential.
 * The state (journal, locks, alert episodes) is the config's, the same for every entry point: in Redis
 * whenever `redis:` is configured (worker processes and every command share it), else files under
 * `stateDir` (single-host use without Redis: the demo, `rotate --inline` from cron).
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { EpisodeStore } from "./alerts/episodes.js";
import { createFileEpisodes } from "./alerts/episodes-file.js";
import { createBank } from "./bank/index.js";
import type { BankClient } from "./bank/types.js";
import { type Config, stateKind } from "./config/schema.js";
import { CertrotorError } from "./errors.js";
import { createIssuer } from "./issuers/index.js";
import type { Issuer } from "./issuers/types.js";
import { createFileJournal } from "./journal/file.js";
import type { Journal } from "./journal/types.js";
import { createFileLockManager } from "./locks/file.js";
import type { LockManager } from "./locks/types.js";
import type { Logger } from "./observability/logger.js";
import type { RotationDeps, RotationHooks, RotationObserver } from "./rotation/context.js";
import { type DiscoverySource, type ResolvedCredential, resolveCredential } from "./rotation/credentials.js";
import { createStore } from "./stores/index.js";
import { ensureWritableDirectory } from "./util/dirs.js";
import type { SecretStore } from "./stores/types.js";
import type { RuntimeRedis, SharedState } from "./runtime-state.js";
import { createFileTasks, type TaskStore } from "./tasks/index.js";

export interface RuntimeOptions {
  logger: Logger;
  now?: () => Date;
  /**
   * `worker`: the state connection waits out a Redis restart (the worker has already waited for Redis at
   * start-up); `command` (default): Redis must answer now, and a command fails fast when it goes away.
   */
  role?: "worker" | "command";
  hooks?: RotationHooks;
  /** Progress observers of every rotation this runtime runs (bench timing, tests). */
  observers?: readonly RotationObserver[];
  owner?: string;
}

export type { RuntimeRedis } from "./runtime-state.js";

export interface Runtime {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** Where the journal, locks and episodes live: see Config.state. */
  readonly state: "redis" | "file";
  /** Present when the state is in Redis. */
  readonly redis?: RuntimeRedis;
  readonly now: () => Date;
  readonly stores: ReadonlyMap<string, SecretStore>;
  readonly banks: ReadonlyMap<string, BankClient>;
  readonly issuers: ReadonlyMap<string, Issuer>;
  readonly journal: Journal;
  readonly locks: LockManager;
  /** Open alert episodes (alert once per failure): in Redis beside the journal, else under stateDir. */
  readonly episodes: EpisodeStore;
  /** Human tasks (portal banks): beside the journal, in Redis or under stateDir. */
  readonly tasks: TaskStore;
  /**
   * The credential with this id. `source` (a job's `discovery`) rebuilds a discovered one without a store
   * request; without it a discovered id is looked up by listing the discovery stores.
   */
  credential(id: string, source?: DiscoverySource): Promise<ResolvedCredential>;
  depsFor(credential: ResolvedCredential): RotationDeps;
  close(): Promise<void>;
}

export { statePrefix } from "./runtime-state.js";

async function openState(
  config: Readonly<Config>,
  role: "worker" | "command",
  logger: Logger,
): Promise<SharedState> {
  const settings = config.redis;
  if (stateKind(config) === "file" || !settings) {
    // before anything is read or changed: a state dir that cannot be written fails here, at once
    await ensureWritableDirectory("stateDir", config.stateDir);
    const locks = createFileLockManager(join(config.stateDir, "locks"));
    return {
      journal: await createFileJournal(join(config.stateDir, "journal"), { leaseState: locks.leaseState }),
      locks,
      episodes: createFileEpisodes(join(config.stateDir, "alerts", "episodes")),
      tasks: createFileTasks(join(config.stateDir, "tasks"), { leaseState: locks.leaseState }),
      close: async () => undefined,
    };
  }
  // Redis (ioredis, the Redis adapters) is loaded only when the state is there: a file-state command
  // such as `status` starts without it
  const { openRedisState } = await import("./runtime-redis.js");
  return openRedisState(settings, role, logger);
}

export async function createRuntime(config: Readonly<Config>, options: RuntimeOptions): Promise<Runtime> {
  const now = options.now ?? (() => new Date());
  const owner = options.owner ?? `${hostname()}:${process.pid}`;
  const stores = new Map<string, SecretStore>();
  const banks = new Map<string, BankClient>();
  const issuers = new Map<string, Issuer>();
  const closeAll = async (): Promise<void> => {
    for (const issuer of issuers.values()) await issuer.close().catch(() => undefined);
    for (const bank of banks.values()) await bank.close().catch(() => undefined);
    for (const store of stores.values()) await store.close().catch(() => undefined);
  };
  try {
    // every adapter logs its retries into this runtime's log (a worker's, a command's)
    const { logger } = options;
    for (const [name, storeConfig] of Object.entries(config.stores))
      stores.set(name, await createStore(name, storeConfig, { logger }));
    for (const [name, bankConfig] of Object.entries(config.banks))
      banks.set(name, createBank(name, bankConfig, { logger }));
    for (const [name, issuerConfig] of Object.entries(config.issuers)) {
      issuers.set(name, await createIssuer(name, issuerConfig, { stores, banks, logger }));
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  let state: SharedState;
  try {
    state = await openState(config, options.role ?? "command", options.logger);
  } catch (error) {
    await closeAll();
    throw error;
  }
  const { journal, locks, episodes, tasks } = state;

  const depsFor = (credential: ResolvedCredential): RotationDeps => {
    const store = stores.get(credential.store);
    const bank = banks.get(credential.bank);
    const issuer = issuers.get(credential.issuer);
    if (!store || !bank || !issuer) {
      throw new CertrotorError(
        "CONFIG_INVALID",
        `credential "${credential.id}" names a store, bank or issuer that is not configured`,
      );
    }
    const bankConfig = config.banks[credential.bank];
    const probeAccountId = bankConfig?.probe?.accountId;
    return {
      bankProfile: {
        registration: bankConfig?.registration ?? "api",
        maxSlots: bankConfig?.maxSlots ?? 2,
        ...(bankConfig?.portalUrl ? { portalUrl: bankConfig.portalUrl } : {}),
      },
      tasks,
      taskPolicy: config.tasks,
      store,
      bank,
      issuer,
      journal,
      locks,
      logger: options.logger.child({ credentialId: credential.id }),
      now,
      owner,
      lockTtlMs: config.worker.rotationLease,
      ...(probeAccountId ? { probeAccountId } : {}),
      ...(options.hooks ? { hooks: options.hooks } : {}),
      ...(options.observers ? { observers: options.observers } : {}),
    };
  };

  return {
    config,
    logger: options.logger,
    state: state.redis ? "redis" : "file",
    ...(state.redis ? { redis: state.redis } : {}),
    now,
    stores,
    banks,
    issuers,
    journal,
    locks,
    episodes,
    tasks,
    credential: (id, source) => resolveCredential(config, stores, id, source),
    depsFor,
    async close() {
      await closeAll();
      await journal.close().catch(() => undefined);
      await locks.close().catch(() => undefined);
      await tasks.close().catch(() => undefined);
      await state.close();
    },
  };
}
