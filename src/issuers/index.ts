/**
 * The issuer registry: one factory per kind, chosen explicitly (no registration by import side effect).
 */
import type { BankClient } from "../bank/types.js";
import type { IssuerConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import type { AdapterLogger } from "../observability/logger.js";
import { vaultReports } from "../stores/adapter-logs.js";
import type { SecretStore } from "../stores/types.js";
import { createBankIssuer } from "./bank.js";
import { createBankPortalIssuer } from "./bank-portal.js";
import { createLocalCaIssuer } from "./local-ca.js";
import type { Issuer, IssuerKind } from "./types.js";

export interface IssuerContext {
  stores: ReadonlyMap<string, SecretStore>;
  banks: ReadonlyMap<string, BankClient>;
  /** Where an issuer with its own client (Vault PKI) logs its retries and logins. */
  logger?: AdapterLogger;
}

type IssuerFactory<K extends IssuerKind> = (
  name: string,
  config: Extract<IssuerConfig, { kind: K }>,
  context: IssuerContext,
) => Promise<Issuer>;

function missing(kind: "store" | "bank", name: string, issuer: string): CertrotorError {
  return new CertrotorError("CONFIG_INVALID", `issuers.${issuer}.${kind}: no ${kind} named "${name}"`);
}

const factories: { [K in IssuerKind]: IssuerFactory<K> } = {
  "local-ca": async (name, config, context) => {
    const store = context.stores.get(config.store);
    if (!store) throw missing("store", config.store, name);
    return createLocalCaIssuer(name, { store, path: config.path, validityMs: config.validity });
  },
  // node-vault is loaded only when a vault-pki issuer is configured (as the stores do)
  "vault-pki": async (name, config, context) =>
    (await import("./vault-pki.js")).createVaultPkiIssuer(
      name,
      config,
      undefined,
      context.logger && vaultReports(context.logger),
    ),
  bank: async (name, config, context) => {
    const bank = context.banks.get(config.bank);
    if (!bank) throw missing("bank", config.bank, name);
    if (!bank.signer) {
      throw new CertrotorError(
        "CONFIG_INVALID",
        `issuers.${name}.bank: bank "${config.bank}" is of kind ${bank.kind}, which does not sign CSRs through an API (issuer kind bank needs a bank of kind banking-api)`,
      );
    }
    return createBankIssuer(name, bank.signer, config.caFile);
  },
  "bank-portal": async (name, config, context) => {
    if (!context.banks.get(config.bank)) throw missing("bank", config.bank, name);
    return createBankPortalIssuer(name, config.caFile);
  },
};

export function createIssuer(name: string, config: IssuerConfig, context: IssuerContext): Promise<Issuer> {
  const factory = factories[config.kind] as IssuerFactory<IssuerKind> | undefined;
  if (!factory) {
    throw new CertrotorError(
      "UNKNOWN_KIND",
      `issuers.${name}.kind: unknown issuer kind "${String(config.kind)}"`,
    );
  }
  return factory(name, config as never, context);
}
