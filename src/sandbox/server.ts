/**
 * The bank sandbox: a real HTTPS server with real mTLS enforcing seed 001's contract (token endpoint,
 * a protected call, the CORE admin API), a standard OAuth 2.0 token endpoint, the bank's portal (bind,
 * unbind, CSR signing by a person), limited to TLS 1.2 on demand (seed 002), with fault injection.
 * Product code: `certrotor sandbox`, the demo and the tests run it.
 *
 *   const bank = await startSandbox({ clientCaPems: [institutionCa.certPem] });
 *   // bank.url, bank.serverCaPem (pin it), bank.adminApiKey, bank.bankCaPem; await bank.stop()
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { signClientCsr } from "../crypto/index.js";
import { CertrotorError } from "../errors.js";
import { adminRoutes } from "./admin-routes.js";
import { apiRoutes } from "./api-routes.js";
import { dispatch, type SandboxLogEntry } from "./dispatch.js";
import { FaultInjector, type FaultOptions } from "./faults.js";
import { HttpError } from "./http.js";
import { PeerJudge } from "./peer.js";
import { PORTAL_PREFIX, portalRoutes } from "./portal-routes.js";
import { compile } from "./router.js";
import { applySeed, type SeedCredential } from "./seed.js";
import { createSandboxPki } from "./server-cert.js";
import { type BindingView, type CredentialStatus, SandboxState } from "./state.js";
import { createTokenIssuer } from "./token.js";

export type { SandboxLogEntry } from "./dispatch.js";
export type { EndpointFaults, FaultOptions } from "./faults.js";
export type { SeedCredential } from "./seed.js";
export type { BindingView, CertificateRecord, CredentialStatus } from "./state.js";

export interface SandboxOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port (default 0: a free port). */
  port?: number;
  /** "TLSv1.2" makes the sandbox TLS 1.2 only, as seed 002's bank (default TLSv1.3). */
  tlsMaxVersion?: "TLSv1.2" | "TLSv1.3";
  /** Trusted roots for client certificates, e.g. the institution's private CA (seed 002). */
  clientCaPems?: string[];
  /** Bearer key of the admin API (default: random). */
  adminApiKey?: string;
  /** Bearer key of the portal routes (default: random). */
  portalApiKey?: string;
  credentials?: SeedCredential[];
  faults?: FaultOptions;
  now?: () => Date;
  /** Access token lifetime (default 3600 s, as the seed's example). */
  tokenTtlSeconds?: number;
  /** Called for each request after it is answered (the CLI prints these). */
  onRequest?: (entry: SandboxLogEntry) => void;
}

export interface SandboxHandle {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly adminApiKey: string;
  /** Base URL of the bank's portal routes (`<url>/portal/v1`). */
  readonly portalUrl: string;
  readonly portalApiKey: string;
  /** CA of the sandbox's server certificate: what a client pins (--cacert, bank caFile). */
  readonly serverCaPem: string;
  /** The bank's own CA: signs CSRs (bank-signs model); trusted for client certificates. */
  readonly bankCaPem: string;
  /** One entry per request, oldest first (the last 10,000). Never holds secrets. */
  readonly logs: readonly SandboxLogEntry[];
  /** TLS connections established so far (kept-alive connections carry several requests). */
  readonly connections: number;
  stop(): Promise<void>;
  setFaults(faults: FaultOptions): void;
  /** Creates a credential (state access for tests and the CLI; the adapter uses the admin API). */
  addCredential(seed: Partial<SeedCredential>): { clientId: string; clientSecret: string };
  bindCertificate(clientId: string, certPem: string): BindingView;
  /** Unbinds (also a portal-only credential's, as the person at the portal would); false if not bound. */
  unbindCertificate(clientId: string, fingerprint: string): boolean;
  setAllowedIps(clientId: string, ips: string[]): void;
  setStatus(clientId: string, status: CredentialStatus): void;
  boundCertificates(clientId: string): BindingView[];
}

const MAX_LOGS = 10_000;

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/** The request log: newest last, capped, each entry also passed to `onRequest`. */
function requestLog(onRequest: SandboxOptions["onRequest"]) {
  const logs: SandboxLogEntry[] = [];
  const log = (entry: SandboxLogEntry): void => {
    logs.push(entry);
    if (logs.length > MAX_LOGS) logs.splice(0, logs.length - MAX_LOGS);
    onRequest?.(entry);
  };
  return { logs, log };
}

/** The bank's CA signing a CSR (seed 000's model): a client certificate valid for a year. */
function bankSigner(bankCa: { certPem: string; keyPem: string }, now: () => Date) {
  return async (csrPem: string) => ({
    certPem: await signClientCsr({
      csrPem,
      caCertPem: bankCa.certPem,
      caKeyPem: bankCa.keyPem,
      validityMs: 365 * 86_400_000,
      now: now(),
    }),
    chainPem: bankCa.certPem,
  });
}

/** State access for tests and the CLI; refusals become BAD_ARGUMENT (they are programming errors here). */
function stateAccess(state: SandboxState) {
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return fn(...args);
      } catch (error) {
        if (error instanceof HttpError)
          throw new CertrotorError("BAD_ARGUMENT", `sandbox: ${error.description}`);
        throw error;
      }
    };
  const bindCertificate = guarded((clientId: string, certPem: string): BindingView => {
    const { record } = state.registerCertificate(certPem);
    return state.bind(clientId, { certificateId: record.id }).view;
  });
  return {
    addCredential: guarded((seed: Partial<SeedCredential>) => {
      const { credential, clientSecret } = state.createCredential(seed);
      for (const pem of seed.certificates ?? []) bindCertificate(credential.clientId, pem);
      return { clientId: credential.clientId, clientSecret };
    }),
    bindCertificate,
    unbindCertificate: guarded((clientId: string, fingerprint: string) =>
      state.unbind(clientId, { fingerprint }),
    ),
    setAllowedIps: guarded(
      (clientId: string, ips: string[]) => void state.updateCredential(clientId, { allowedIps: ips }),
    ),
    setStatus: guarded(
      (clientId: string, status: CredentialStatus) => void state.updateCredential(clientId, { status }),
    ),
    boundCertificates: (clientId: string) => state.boundCertificates(clientId),
  };
}

export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const now = options.now ?? (() => new Date());
  const host = options.host ?? "127.0.0.1";
  const pki = await createSandboxPki(host, now());
  const state = new SandboxState(now);
  applySeed(state, options.credentials ?? []);
  const anchorsPem = [...(options.clientCaPems ?? []), pki.bankCa.certPem].join("\n");
  const adminApiKey = options.adminApiKey ?? randomBytes(24).toString("base64url");
  const portalApiKey = options.portalApiKey ?? randomBytes(24).toString("base64url");
  const faults = new FaultInjector(options.faults);
  const { logs, log } = requestLog(options.onRequest);

  const server = await listen(options, pki, host);
  const port = (server.address() as AddressInfo).port;
  const url = `https://${urlHost(host)}:${port}`;
  const tokens = await createTokenIssuer({ issuer: url, audience: `${url}/public/gw_banking` });
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const signCsr = bankSigner(pki.bankCa, now);
  const routes = [
    ...apiRoutes({ state, tokens, tokenTtlSeconds }),
    ...adminRoutes({ state, signCsr }),
    ...portalRoutes({ state, signCsr }),
  ].map(compile);
  const judge = new PeerJudge(anchorsPem);
  const deps = { routes, state, faults, now, adminApiKey, portalApiKey, judge, log };
  server.on("request", (req, res) => void dispatch(req, res, deps));
  let connections = 0;
  server.on("secureConnection", () => connections++);
  server.on("tlsClientError", (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    const at = now().toISOString();
    const reason = error.code ?? "handshake_failed";
    log({
      at,
      method: "",
      path: "",
      endpoint: "other",
      status: "tls_error",
      remoteAddress: socket.remoteAddress,
      reason,
    });
  });

  return {
    url,
    host,
    port,
    adminApiKey,
    portalUrl: `${url}${PORTAL_PREFIX}`,
    portalApiKey,
    serverCaPem: pki.serverCaPem,
    bankCaPem: pki.bankCa.certPem,
    logs,
    get connections() {
      return connections;
    },
    async stop() {
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
    setFaults: (next) => faults.set(next),
    ...stateAccess(state),
  };
}

/** The TLS 1.2 suites the sandbox offers: ECDHE key exchange, AES-GCM or ChaCha20-Poly1305. */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

async function listen(
  options: SandboxOptions,
  pki: Awaited<ReturnType<typeof createSandboxPki>>,
  host: string,
): Promise<Server> {
  const server = createServer({
    key: pki.serverKeyPem,
    cert: pki.serverCertPem,
    // Advertised in the CertificateRequest; the trust decision itself is made per request (peer.ts).
    ca: [...(options.clientCaPems ?? []), pki.bankCa.certPem],
    requestCert: true,
    // SERVER SIDE ONLY, on purpose: the handshake accepts any client certificate so that an untrusted,
    // expired or unbound one reaches the token endpoint and gets seed 001's JSON answer
    // "401 Invalid Client Certificate" instead of a bare handshake failure. Every route guarded
    // "client-cert" verifies the chain, validity and binding itself (router.ts enforces that no such
    // route can answer a success without that check). Clients never disable verification.
    rejectUnauthorized: false,
    minVersion: "TLSv1.2",
    maxVersion: options.tlsMaxVersion ?? "TLSv1.3",
    // TLS 1.2: forward-secret AEAD suites only, none of OpenSSL's CBC-SHA1 defaults (TLS 1.3 suites are
    // all AEAD and stay Node's defaults)
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
  });
  server.listen(options.port ?? 0, host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([error]) => {
      throw error;
    }),
  ]);
  return server;
}
