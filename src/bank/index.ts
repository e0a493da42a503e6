/**
 * The bank registry: one explicit map from config kind to adapter factory. No adapter registers itself
 * on import; a kind missing from the map fails with UNKNOWN_KIND.
 */
import type { BankConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { createBankingApi } from "./banking-api.js";
import { createOauth2Mtls } from "./oauth2-mtls.js";
import type { BankOptions } from "./token-endpoint.js";
import type { BankClient, BankKind } from "./types.js";

export type { BankOptions } from "./token-endpoint.js";

export type BankConfigOf<K extends BankKind> = Extract<BankConfig, { kind: K }>;

export type BankFactory<K extends BankKind = BankKind> = (
  name: string,
  config: BankConfigOf<K>,
  options?: BankOptions,
) => BankClient;

const factories = {
  "banking-api": createBankingApi,
  "oauth2-mtls": createOauth2Mtls,
} satisfies { [K in BankKind]: BankFactory<K> };

/** The bank kinds certrotor knows. */
export const BANK_KINDS = Object.keys(factories) as BankKind[];

/** Builds the bank `name` configured by `config`. */
export function createBank(name: string, config: BankConfig, options: BankOptions = {}): BankClient {
  const kind: string = config.kind;
  if (!Object.hasOwn(factories, kind)) {
    throw new CertrotorError(
      "UNKNOWN_KIND",
      `bank "${name}" has kind "${kind}", which is not one certrotor knows`,
      { details: { bank: name, kind }, hint: `use one of: ${BANK_KINDS.join(", ")}` },
    );
  }
  // The map is keyed by kind, so the factory found takes exactly this config's variant.
  const factory = factories[kind as BankKind] as BankFactory;
  return factory(name, config, options);
}
