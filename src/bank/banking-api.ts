/**
 * The `banking-api` adapter of the bank port: seed 001's Banking API (token-v2 over mTLS, a protected
 * call) and its CORE admin API (certificate slots, bank-signed CSRs).
 *
 *   const bank = createBankingApi("main", config.banks.main);
 *   await bank.verify({ certPem, keyPem }, { clientId, clientSecret }, { probe: true });
 *
 * TLS: the bank's server certificate is verified against the pinned CA (caFile / caPem), TLS versions
 * from config; one SecureContext per client material, reused between the token call and the probe.
 * Retries with exponential backoff only for what a retry can fix (5xx, 429, resets, hang-ups, timeouts).
 */
import { readFileSync } from "node:fs";
import type { BankConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import type { AdapterLogger } from "../observability/logger.js";
import { createAdminClient } from "./admin-client.js";
import { type MtlsSession, mtlsSession, plainSession, type TlsSettings } from "./mtls.js";
import { createTokenClient } from "./token-client.js";
import type { RetryPolicy } from "./transport.js";
import type { BankClient, ClientMaterial } from "./types.js";

export interface BankingApiOptions {
  /** The pinned CA bundle as PEM text, instead of reading `config.caFile`. */
  caPem?: string;
  logger?: AdapterLogger;
  /** Backoff between retries (default 200 ms doubling up to 5 s). */
  retryDelay?: { baseMs: number; maxMs: number };
}

function readCa(name: string, config: BankConfig, options: BankingApiOptions): string | undefined {
  if (options.caPem !== undefined) return options.caPem;
  if (config.caFile === undefined) return undefined;
  try {
    return readFileSync(config.caFile, "utf8");
  } catch (error) {
    throw new CertrotorError("CONFIG_NOT_FOUND", `banks.${name}.caFile: ${config.caFile} cannot be read`, {
      cause: error,
      details: { bank: name, path: config.caFile },
    });
  }
}

export function createBankingApi(
  name: string,
  config: BankConfig,
  options: BankingApiOptions = {},
): BankClient {
  const tls: TlsSettings = {
    caPem: readCa(name, config, options),
    minVersion: config.tls.minVersion,
    maxVersion: config.tls.maxVersion,
  };
  const retry: RetryPolicy = {
    retries: config.retries,
    baseDelayMs: options.retryDelay?.baseMs ?? 200,
    maxDelayMs: options.retryDelay?.maxMs ?? 5_000,
  };
  const onRetry = (what: string, code: string, attempt: number, delayMs: number): void =>
    options.logger?.warn({ bank: name, call: what, code, attempt, delayMs }, "bank call failed; retrying");
  const common = { timeoutMs: config.requestTimeout, retry, onRetry };
  const adminSession = plainSession(tls);
  const admin = createAdminClient({
    bankName: name,
    baseUrl: config.adminUrl ?? config.url,
    apiKey: config.adminApiKey,
    session: adminSession,
    ...common,
  });
  const tokens = createTokenClient({ baseUrl: config.url, ...common });
  // Keyed by the material object: the token call and the probe of one verify share a SecureContext.
  const sessions = new WeakMap<ClientMaterial, MtlsSession>();
  const sessionFor = (material: ClientMaterial): MtlsSession => {
    let session = sessions.get(material);
    if (!session) {
      session = mtlsSession(material, tls, `bank "${name}" client material`);
      sessions.set(material, session);
    }
    return session;
  };

  const client: BankClient = {
    kind: "banking-api",
    name,
    listSlots: (clientId) => admin.listSlots(clientId),
    async bind(clientId, certPem) {
      const bound = await admin.bind(clientId, certPem);
      options.logger?.debug({ bank: name, clientId, fingerprint: bound.fingerprint }, "certificate bound");
      return bound;
    },
    async unbind(clientId, fingerprint) {
      await admin.unbind(clientId, fingerprint);
      options.logger?.debug({ bank: name, clientId, fingerprint }, "certificate unbound");
    },
    signCsr: (csrPem, { idempotencyKey }) => admin.signCsr(csrPem, idempotencyKey),
    async requestToken(material, credentials) {
      const token = await tokens.requestToken(sessionFor(material), credentials);
      options.logger?.debug(
        {
          bank: name,
          clientId: credentials.clientId,
          boundToCert: token.boundToCert,
          expiresIn: token.expiresIn,
        },
        "token obtained",
      );
      return token;
    },
    probe: (token, material, accountId) => tokens.probe(sessionFor(material), token, accountId),
    async verify(material, credentials, verifyOptions = {}) {
      const token = await client.requestToken(material, credentials);
      const accountId =
        verifyOptions.probeAccountId ?? (verifyOptions.probe ? config.probe?.accountId : undefined);
      if (verifyOptions.probe && accountId === undefined) {
        throw new CertrotorError(
          "BAD_ARGUMENT",
          `bank "${name}": a probe was asked but banks.${name}.probe.accountId is not set`,
        );
      }
      if (accountId !== undefined) await client.probe(token, material, accountId);
      return token;
    },
    async close() {
      // only the admin agent keeps sockets; mTLS agents never do, and their sessions are weakly held
      adminSession.agent.destroy();
    },
  };
  return client;
}
