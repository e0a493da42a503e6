/**
 * A wire-level HashiCorp Vault emulator for tests, like `vault server -dev`: KV v2 at `secret/`, PKI at
 * `pki/` with its own root CA, token and AppRole auth, namespaces, `sys/health`, and fault injection.
 * Real clients (node-vault) cannot tell it from Vault for the calls certrotor makes.
 *
 *   const vault = await startVaultEmulator({ rootToken: "root" });
 *   const client = nodeVault({ endpoint: vault.url, token: vault.rootToken });
 *   ...
 *   await vault.stop();
 */
import { randomBytes } from "node:crypto";
import { EventEmitter, once } from "node:events";
import {
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer as createHttpServer,
} from "node:http";
import { type Socket, createServer as createNetServer } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { setTimeout as delay } from "node:timers/promises";
import type { KeyType } from "../../../src/config/schema.js";
import type { AppRoleOptions } from "./auth.js";
import type { Engine } from "./engine.js";
import type { Reply } from "./envelope.js";
import { type FaultOptions, FaultInjector } from "./faults.js";
import { KvEngine } from "./kv.js";
import { LIST_MARKER, ListVerbShim } from "./list-shim.js";
import { PkiEngine } from "./pki.js";
import { type CoreRequest, VaultCore } from "./router.js";
import type { PathRule, TokenOptions } from "./tokens.js";

export type { AppRoleOptions } from "./auth.js";
export type { FaultOptions } from "./faults.js";
export type { Capability, PathRule, TokenOptions } from "./tokens.js";

export interface VaultEmulatorOptions {
  /** Accepted as a root token (default: a random `hvs.` token). */
  rootToken?: string;
  port?: number;
  host?: string;
  faults?: FaultOptions;
  /** Child namespaces to create at start (each gets KV v2 at `secret/`). */
  namespaces?: string[];
  /** Key type of the PKI root CA (default p256: fast to generate). */
  pkiKeyType?: KeyType;
  /** Serve HTTPS with a certificate for `localhost` and 127.0.0.1 issued by the PKI root CA (`pkiCaPem`). */
  tls?: boolean;
}

export interface VaultEmulator {
  readonly url: string;
  readonly rootToken: string;
  /** One line per request, `METHOD /v1/path STATUS` (or `dropped`): never tokens, bodies or queries. */
  readonly logs: string[];
  /** The PKI root CA certificate, PEM. */
  readonly pkiCaPem: string;
  /** `request` (after each answer), `login`, `renew`. */
  readonly events: EventEmitter;
  readonly counters: {
    readonly requests: number;
    /** TCP connections accepted (keep-alive reuse keeps this below `requests`). */
    readonly connections: number;
    readonly logins: number;
    readonly failedLogins: number;
    readonly renewals: number;
    readonly faultsFailed: number;
    readonly faultsDropped: number;
    readonly pkiSigned: number;
  };
  stop(): Promise<void>;
  setFaults(faults: FaultOptions): void;
  /** A token with a TTL on the real clock and the given policies/path rules; returns the token. */
  createToken(options?: TokenOptions): string;
  revokeToken(token: string): void;
  /** Revokes every token but the root token (what `vault token revoke` on each would do). */
  revokeAllTokens(): void;
  addPolicy(name: string, rules: PathRule[]): void;
  addAppRole(options: AppRoleOptions): void;
  addNamespace(path: string): void;
  setSealed(sealed: boolean): void;
  setStandby(standby: boolean): void;
  /** Resolves once `counter` reaches `value` (e.g. the second renewal), checked after every request. */
  waitFor(counter: "renewals" | "logins" | "requests", value: number): Promise<void>;
}

const MAX_BODY = 32 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply, head: boolean): void {
  res.setHeader("Cache-Control", "no-store");
  if (reply.raw) {
    res.writeHead(reply.status, { "Content-Type": reply.raw.contentType });
    res.end(head ? undefined : reply.raw.data);
    return;
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(head ? undefined : text);
}

async function tlsOptions(pki: PkiEngine): Promise<{ cert: string; key: string }> {
  const { certPem, keyPem } = await pki.serverCertificate("localhost", ["127.0.0.1"]);
  return { cert: certPem, key: keyPem };
}

export async function startVaultEmulator(options: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const rootToken = options.rootToken ?? `hvs.${randomBytes(18).toString("base64url")}`;
  const pki = await PkiEngine.create({ keyType: options.pkiKeyType });
  const mounts = new Map<string, Engine>([
    ["secret/", new KvEngine()],
    ["pki/", pki],
  ]);
  const core = new VaultCore(rootToken, mounts);
  for (const ns of options.namespaces ?? []) core.addNamespace(ns);
  const faults = new FaultInjector(options.faults);
  const logs: string[] = [];
  const events = new EventEmitter();
  let requests = 0;
  core.auth.events.on("login", (e) => events.emit("login", e));
  core.auth.events.on("renew", (e) => events.emit("renew", e));

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://vault.invalid");
    const method = req.headers[LIST_MARKER] ? "LIST" : (req.method ?? "GET");
    if (method === "LIST") url.searchParams.delete("list");
    const v1 = url.pathname.startsWith("/v1/");
    const path = v1 ? decodeURIComponent(url.pathname.slice(4)) : url.pathname;
    const line = `${method} ${url.pathname}`;
    const finish = (status: number | "dropped") => {
      logs.push(`${line} ${status}`);
      requests++;
      events.emit("request", { method, path, status });
    };
    const latency = faults.latencyMs(path);
    if (latency > 0) await delay(latency);
    const decision = faults.next(path);
    if (decision.kind === "drop") {
      req.socket.destroy();
      return finish("dropped");
    }
    const body = await readBody(req);
    let reply: Reply;
    if (decision.kind === "fail") reply = { status: decision.status, body: decision.body };
    else if (!v1) reply = { status: 404, body: { errors: [] } };
    else if (body === undefined) reply = { status: 413, body: { errors: ["http: request body too large"] } };
    else {
      const request: CoreRequest = { method, path, query: url.searchParams, headers: req.headers, body };
      reply = await core.handle(request);
    }
    if (decision.kind === "drop-after") {
      // The request took effect; its answer is lost on the way back.
      req.socket.destroy();
      return finish("dropped");
    }
    send(res, reply, method === "HEAD");
    finish(reply.status);
  }

  const http: Server = createHttpServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { errors: [String(error)] } }, false);
    });
  });
  const sockets = new Set<Socket>();
  let connections = 0;
  const accept = (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    http.emit("connection", new ListVerbShim(socket));
  };
  // With TLS the shim sits on the decrypted stream; the raw TCP socket belongs to the TLS server.
  const net = options.tls ? createTlsServer(await tlsOptions(pki), accept) : createNetServer(accept);
  net.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(net, "listening");
  const address = net.address();
  if (address === null || typeof address === "string") throw new Error("vault emulator: no TCP address");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const handle: VaultEmulator = {
    url: `${options.tls ? "https" : "http"}://${host}:${address.port}`,
    rootToken,
    logs,
    pkiCaPem: pki.caPem,
    events,
    counters: {
      get requests() {
        return requests;
      },
      get connections() {
        return connections;
      },
      get logins() {
        return core.auth.counters.logins;
      },
      get failedLogins() {
        return core.auth.counters.failedLogins;
      },
      get renewals() {
        return core.auth.counters.renewals;
      },
      get faultsFailed() {
        return faults.counters.failed;
      },
      get faultsDropped() {
        return faults.counters.dropped;
      },
      get pkiSigned() {
        return pki.counters.signed;
      },
    },
    async stop() {
      const closed = new Promise<void>((resolve) => net.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      http.close();
      await closed;
    },
    setFaults: (f) => faults.set(f),
    createToken: (opts = {}) =>
      core.tokens.create(opts, { path: "auth/token/create", displayName: "token" }).id,
    revokeToken: (token) => core.tokens.revoke(token),
    revokeAllTokens: () => core.tokens.revokeAll(),
    addPolicy: (name, rules) => core.tokens.addPolicy(name, rules),
    addAppRole: (opts) => core.auth.addAppRole(opts),
    addNamespace: (path) => core.addNamespace(path),
    setSealed: (sealed) => {
      core.state.sealed = sealed;
    },
    setStandby: (standby) => {
      core.state.standby = standby;
    },
    waitFor(counter, value) {
      return new Promise((resolve) => {
        const check = () => {
          if (handle.counters[counter] < value) return;
          events.off("request", check);
          resolve();
        };
        events.on("request", check);
        check();
      });
    },
  };
  return handle;
}
