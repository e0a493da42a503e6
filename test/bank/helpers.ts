/**
 * Shared set-up for the bank tests: an institution CA (seed 002), a sandbox that trusts it, one
 * credential with a bound client cert, and a `banking-api` adapter pinned to the sandbox's server CA.
 */
import { Writable } from "node:stream";
import { type BankingApiClient, createBankingApi } from "../../src/bank/banking-api.js";
import { type SandboxHandle, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";
import type { BankingApiConfig } from "../../src/config/schema.js";
import { createLogger, type Logger } from "../../src/observability/logger.js";
import { aCa, aClientCert, type ClientCert, type PkiMaterial } from "../fixtures/pki.js";

export interface BankWorld {
  ca: PkiMaterial;
  client: ClientCert;
  clientId: string;
  clientSecret: string;
  sandbox: SandboxHandle;
  bank: BankingApiClient;
  /** JSON lines the adapter logged. */
  logLines: string[];
  logger: Logger;
  config: BankingApiConfig;
  stop(): Promise<void>;
}

export function bankConfig(
  sandbox: Pick<SandboxHandle, "url" | "adminApiKey">,
  overrides: Partial<BankingApiConfig> = {},
): BankingApiConfig {
  return {
    kind: "banking-api",
    url: sandbox.url,
    adminApiKey: sandbox.adminApiKey,
    tls: { minVersion: "TLSv1.2", maxVersion: "TLSv1.3" },
    requestTimeout: 10_000,
    retries: 3,
    registration: "api",
    maxSlots: 2,
    ...overrides,
  };
}

export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: "debug", destination, pretty: false }), lines };
}

export async function bankWorld(
  options: { sandbox?: SandboxOptions; config?: Partial<BankingApiConfig> } = {},
): Promise<BankWorld> {
  const ca = await aCa();
  const client = await aClientCert({ ca });
  const sandbox = await startSandbox({ clientCaPems: [ca.certPem], ...options.sandbox });
  const { clientId, clientSecret } = sandbox.addCredential({
    clientId: "acme-payments",
    certificates: [client.certPem],
  });
  const config = bankConfig(sandbox, options.config);
  const { logger, lines } = capturingLogger();
  const bank = createBankingApi("sandbox", config, {
    caPem: sandbox.serverCaPem,
    logger,
    retryDelay: { baseMs: 5, maxMs: 20 },
  });
  return {
    ca,
    client,
    clientId,
    clientSecret,
    sandbox,
    bank,
    logLines: lines,
    logger,
    config,
    stop: () => sandbox.stop(),
  };
}

/** The sandbox's log entries for the token endpoint. */
export const tokenRequests = (sandbox: SandboxHandle) =>
  sandbox.logs.filter((entry) => entry.endpoint === "token");

/** Runs `fn`, which must reject; returns the rejection. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, got a success");
}
