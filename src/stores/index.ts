/**
 * The secret-store registry: one explicit map from config kind to adapter factory. No adapter registers
 * itself on import; a kind missing from the map fails with UNKNOWN_KIND.
 */
import type { StoreConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import type { AdapterLogger } from "../observability/logger.js";
import { awsReports, vaultReports } from "./adapter-logs.js";
import { createFileStore } from "./file.js";
import type { SecretStore, StoreKind } from "./types.js";

export type StoreConfigOf<K extends StoreKind> = Extract<StoreConfig, { kind: K }>;

/** What any factory may be handed; each adapter reads the options it knows. */
export interface CreateStoreOptions {
  /** Environment for values read from it (the file store's keyEnv). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where the adapters' retries, logins and calls are logged (never values or keys). */
  logger?: AdapterLogger;
}

export type StoreFactory<K extends StoreKind = StoreKind> = (
  name: string,
  config: StoreConfigOf<K>,
  options: CreateStoreOptions,
) => Promise<SecretStore>;

// Vault's and AWS's adapters load their clients (node-vault, the AWS SDK) only when a store of that kind
// is configured: a CLI command on file stores does not pay for them at start-up.
const factories = {
  file: (name, config, { env }) => createFileStore(name, config, env ? { env } : {}),
  vault: async (name, config, { logger }) =>
    (await import("./vault.js")).createVaultStore(
      name,
      config,
      logger ? { logger: vaultReports(logger) } : {},
    ),
  aws: async (name, config, { logger }) =>
    (await import("./aws.js")).createAwsStore(name, config, logger ? { logger: awsReports(logger) } : {}),
} satisfies { [K in StoreKind]: StoreFactory<K> };

/** Opens the store `name` configured by `config`. */
export async function createStore(
  name: string,
  config: StoreConfig,
  options: CreateStoreOptions = {},
): Promise<SecretStore> {
  const kind: string = config.kind;
  if (!Object.hasOwn(factories, kind)) {
    throw new CertrotorError(
      "UNKNOWN_KIND",
      `store "${name}" has kind "${kind}", which is not one certrotor knows`,
      {
        details: { store: name, kind },
        hint: `use one of: ${Object.keys(factories).join(", ")}`,
      },
    );
  }
  // The map is keyed by kind, so the factory found takes exactly this config's variant.
  const factory = factories[kind as keyof typeof factories] as StoreFactory;
  return factory(name, config, options);
}
