/**
 * Shared set-up for the bank tests: an institution CA (seed 002), a sandbox that trusts it, one
 * credential with a bound client cert, and a `banking-api` adapter pinned to the sandbox's server CA.
 */
import { request } from "node:https";
import { Writable } from "node:stream";
import { type BankingApiClient, createBankingApi } from "../../src/bank/banking-api.js";
import { type SandboxHandle, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";
import type { BankingApiConfig, Oauth2MtlsConfig } from "../../src/config/schema.js";
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

/** An oauth2-mtls bank config for the sandbox's standard token endpoint (POST /oauth/token). */
export function oauth2Config(
  sandbox: Pick<SandboxHandle, "url">,
  overrides: Partial<Oauth2MtlsConfig> = {},
): Oauth2MtlsConfig {
  return {
    kind: "oauth2-mtls",
    url: sandbox.url,
    tokenPath: "/oauth/token",
    clientAuth: "basic",
    registration: "manual",
    maxSlots: 2,
    tls: { minVersion: "TLSv1.2", maxVersion: "TLSv1.3" },
    requestTimeout: 10_000,
    retries: 3,
    ...overrides,
  };
}

/** A raw HTTPS call to the sandbox (routes no adapter uses: the portal, the admin records), pinned to its CA. */
export function sandboxCall(
  sandbox: Pick<SandboxHandle, "url" | "serverCaPem">,
  method: string,
  path: string,
  options: { key: string; body?: unknown },
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, sandbox.url),
      {
        method,
        ca: sandbox.serverCaPem,
        agent: false,
        headers: { authorization: `Bearer ${options.key}`, "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
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
