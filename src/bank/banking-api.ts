/**
 * The `banking-api` adapter of the bank port: seed 001's Banking API (token-v2 over mTLS, a protected
 * call) and its CORE admin API (certificate slots, bank-signed CSRs): token endpoint, slots and signer.
 *
 *   const bank = createBankingApi("main", config.banks.main);
 *   await bank.verify({ certPem, keyPem }, { clientId, clientSecret }, { probe: true });
 *
 * TLS, sessions and retries: token-endpoint.ts (shared by every adapter).
 */
import type { BankingApiConfig } from "../config/schema.js";
import { createAdminClient } from "./admin-client.js";
import { plainSession } from "./mtls.js";
import { createTokenClient } from "./token-client.js";
import { type BankOptions, bankConnection, createTokenEndpoint } from "./token-endpoint.js";
import type { BankClient, CsrSigner, SlotRegistry } from "./types.js";

export type { BankOptions } from "./token-endpoint.js";
/** The options of this adapter (every adapter takes the same). */
export type BankingApiOptions = BankOptions;

/** A banking-api bank always has both optional capabilities. */
export type BankingApiClient = BankClient & { readonly slots: SlotRegistry; readonly signer: CsrSigner };

export function createBankingApi(
  name: string,
  config: BankingApiConfig,
  options: BankOptions = {},
): BankingApiClient {
  const connection = bankConnection(name, config, options);
  const { logger } = options;
  const adminSession = plainSession(connection.tls);
  const admin = createAdminClient({
    bankName: name,
    baseUrl: config.adminUrl ?? config.url,
    apiKey: config.adminApiKey,
    session: adminSession,
    maxSlots: config.maxSlots,
    ...connection.common,
  });
  const tokens = createTokenClient({ baseUrl: config.url, ...connection.common });

  const slots: SlotRegistry = {
    listSlots: (clientId) => admin.listSlots(clientId),
    async bind(clientId, certPem) {
      const bound = await admin.bind(clientId, certPem);
      logger?.debug({ bank: name, clientId, fingerprint: bound.fingerprint }, "certificate bound");
      return bound;
    },
    async unbind(clientId, fingerprint) {
      await admin.unbind(clientId, fingerprint);
      logger?.debug({ bank: name, clientId, fingerprint }, "certificate unbound");
    },
  };

  return {
    kind: "banking-api",
    name,
    slots,
    signer: { signCsr: (csrPem, { idempotencyKey }) => admin.signCsr(csrPem, idempotencyKey) },
    ...createTokenEndpoint(name, config, connection, tokens, logger),
    async close() {
      // only the admin agent keeps sockets; mTLS agents never do, and their sessions are weakly held
      adminSession.agent.destroy();
    },
  };
}
