/**
 * What every bank adapter shares: TLS settings from config (the pinned CA, TLS versions), the retry
 * policy, one mTLS session per client material, and the token endpoint capability built on a token
 * client: requestToken, probe, and verify (token, then the probe when asked). An adapter adds its own
 * wire shape (token-client.ts options) and its optional capabilities (slots, CSR signing).
 *
 * TLS: the bank's server certificate is verified against the pinned CA (caFile / caPem), TLS versions
 * from config; one SecureContext per client material, reused between the token call and the probe.
 * Retries with exponential backoff only for what a retry can fix (5xx, 429, resets, hang-ups, timeouts).
 */
import { readFileSync } from "node:fs";
import type { BankConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import type { AdapterLogger } from "../observability/logger.js";
import { type MtlsSession, mtlsSession, type TlsSettings } from "./mtls.js";
import type { TokenClient } from "./token-client.js";
import type { RetryPolicy } from "./transport.js";
import type { BankClient, ClientMaterial } from "./types.js";

/** What any bank factory may be handed. */
export interface BankOptions {
  /** The pinned CA bundle as PEM text, instead of reading `config.caFile`. */
  caPem?: string;
  logger?: AdapterLogger;
  /** Backoff between retries (default 200 ms doubling up to 5 s). */
  retryDelay?: { baseMs: number; maxMs: number };
}

/** The settings every call of one bank uses. */
export interface BankConnection {
  readonly tls: TlsSettings;
  /** Timeout, retry policy and retry logging, as the wire clients take them. */
  readonly common: {
    timeoutMs: number;
    retry: RetryPolicy;
    onRetry: (what: string, code: string, attempt: number, delayMs: number) => void;
  };
}

function readCa(name: string, config: BankConfig, options: BankOptions): string | undefined {
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

export function bankConnection(name: string, config: BankConfig, options: BankOptions): BankConnection {
  const retry: RetryPolicy = {
    retries: config.retries,
    baseDelayMs: options.retryDelay?.baseMs ?? 200,
    maxDelayMs: options.retryDelay?.maxMs ?? 5_000,
  };
  const onRetry = (what: string, code: string, attempt: number, delayMs: number): void =>
    options.logger?.warn({ bank: name, call: what, code, attempt, delayMs }, "bank call failed; retrying");
  return {
    tls: {
      caPem: readCa(name, config, options),
      minVersion: config.tls.minVersion,
      maxVersion: config.tls.maxVersion,
    },
    common: { timeoutMs: config.requestTimeout, retry, onRetry },
  };
}

export type TokenEndpoint = Pick<BankClient, "requestToken" | "probe" | "verify">;

/** requestToken / probe / verify of bank `name` over `tokens`, with one mTLS session per material. */
export function createTokenEndpoint(
  name: string,
  config: BankConfig,
  connection: BankConnection,
  tokens: TokenClient,
  logger: AdapterLogger | undefined,
): TokenEndpoint {
  // Keyed by the material object: the token call and the probe of one verify share a SecureContext.
  const sessions = new WeakMap<ClientMaterial, MtlsSession>();
  const sessionFor = (material: ClientMaterial): MtlsSession => {
    let session = sessions.get(material);
    if (!session) {
      session = mtlsSession(material, connection.tls, `bank "${name}" client material`);
      sessions.set(material, session);
    }
    return session;
  };

  const endpoint: TokenEndpoint = {
    async requestToken(material, credentials) {
      const token = await tokens.requestToken(sessionFor(material), credentials);
      logger?.debug(
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
      const token = await endpoint.requestToken(material, credentials);
      const accountId =
        verifyOptions.probeAccountId ?? (verifyOptions.probe ? config.probe?.accountId : undefined);
      if (verifyOptions.probe && accountId === undefined) {
        throw new CertrotorError(
          "BAD_ARGUMENT",
          `bank "${name}": a probe was asked but banks.${name}.probe.accountId is not set`,
        );
      }
      if (accountId !== undefined) await endpoint.probe(token, material, accountId);
      return token;
    },
  };
  return endpoint;
}
