/**
 * Builds every adapter the config names, once, and hands each rotation the ports of its credential.
 * Two backends for the journal and the locks: Redis (worker processes sharing one Redis) or files under
 * `stateDir` (`--inline`, the demo, small installations without Redis).
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { createRedisEpisodes, type EpisodeStore } from "./alerts/episodes.js";
import { createFileEpisodes } from "./alerts/episodes-file.js";
import { createBankingApi } from "./bank/banking-api.js";
import type { BankClient } from "./bank/types.js";
import type { Config } from "./config/schema.js";
import { CertrotorError } from "./errors.js";
import { createIssuer } from "./issuers/index.js";
import type { Issuer } from "./issuers/types.js";
import { createFileJournal } from "./journal/file.js";
import { createRedisJournal } from "./journal/redis.js";
import type { Journal } from "./journal/types.js";
import { createFileLockManager } from "./locks/file.js";
import { createRedisLockManager } from "./locks/redis.js";
import type { LockManager } from "./locks/types.js";
import type { Logger } from "./observability/logger.js";
import type { RotationDeps, RotationHooks } from "./rotation/context.js";
import { type ResolvedCredential, resolveCredential } from "./rotation/credentials.js";
import { createStore } from "./stores/index.js";
import type { SecretStore } from "./stores/types.js";

export interface RuntimeOptions {
  logger: Logger;
  now?: () => Date;
  /** Journal and locks in Redis (shared by workers); files under stateDir when absent. */
  redis?: Redis;
  hooks?: RotationHooks;
  owner?: string;
}

export interface Runtime {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly stores: ReadonlyMap<string, SecretStore>;
  readonly banks: ReadonlyMap<string, BankClient>;
  readonly issuers: ReadonlyMap<string, Issuer>;
  readonly journal: Journal;
  readonly locks: LockManager;
  /** Open alert episodes (alert once per failure): in Redis beside the journal, else under stateDir. */
  readonly episodes: EpisodeStore;
  credential(id: string): Promise<ResolvedCredential>;
  depsFor(credential: ResolvedCredential): RotationDeps;
  close(): Promise<void>;
}

/** Redis key prefix of the journal and locks: inside the queue prefix's hash tag (Redis Cluster). */
export function statePrefix(config: Config): string {
  return `${config.worker.queuePrefix}:state:`;
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
    for (const [name, storeConfig] of Object.entries(config.stores))
      stores.set(name, await createStore(name, storeConfig));
    for (const [name, bankConfig] of Object.entries(config.banks))
      banks.set(name, createBankingApi(name, bankConfig));
    for (const [name, issuerConfig] of Object.entries(config.issuers)) {
      issuers.set(name, await createIssuer(name, issuerConfig, { stores, banks }));
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const journal = options.redis
    ? createRedisJournal(options.redis, { prefix: `${statePrefix(config)}journal:` })
    : await createFileJournal(join(config.stateDir, "journal"));
  const locks = options.redis
    ? createRedisLockManager(options.redis, { prefix: `${statePrefix(config)}lock:` })
    : createFileLockManager(join(config.stateDir, "locks"));
  const episodes = options.redis
    ? createRedisEpisodes(options.redis, { prefix: `${statePrefix(config)}alerts:episodes:` })
    : createFileEpisodes(join(config.stateDir, "alerts", "episodes"));

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
    const probeAccountId = config.banks[credential.bank]?.probe?.accountId;
    return {
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
    };
  };

  return {
    config,
    logger: options.logger,
    now,
    stores,
    banks,
    issuers,
    journal,
    locks,
    episodes,
    credential: (id) => resolveCredential(config, stores, id),
    depsFor,
    async close() {
      await closeAll();
      await journal.close().catch(() => undefined);
      await locks.close().catch(() => undefined);
    },
  };
}
