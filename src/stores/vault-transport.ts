/**
 * The HTTP(S) agents of a Vault connection, pinned to the configured origin. A redirect (a Vault standby
 * answering 307 with the active node's api_addr, or anything between us and Vault) must never take
 * `X-Vault-Token` to another host. vault-http.ts follows redirects only within the origin; beneath it, every
 * socket of the connection is opened by these agents, which refuse to open one to any other scheme, host or
 * port, so even a transport that followed a redirect elsewhere fails before a byte (or the token) leaves.
 */
import type { ClientRequestArgs } from "node:http";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type RequestOptions as HttpsRequestOptions } from "node:https";
import type { Duplex } from "node:stream";

/** The `code` of the error a refused connection fails with. */
export const OFF_ORIGIN = "ERR_CERTROTOR_VAULT_OFF_ORIGIN";

/** Where a request or a socket goes: scheme, host (lowercase, IPv6 bare) and port. */
interface Endpoint {
  protocol: string;
  host: string;
  port: number;
}

/** The configured address's endpoint. */
export interface Origin extends Endpoint {
  protocol: "http:" | "https:";
}

const bareHost = (host: string): string => host.replace(/^\[|\]$/g, "").toLowerCase();

function endpointOf(url: URL): Endpoint {
  const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  // URL keeps IPv6 literals bracketed; sockets get them bare.
  return { protocol: url.protocol, host: bareHost(url.hostname), port };
}

export function originOf(address: string): Origin {
  const endpoint = endpointOf(new URL(address));
  return { ...endpoint, protocol: endpoint.protocol === "https:" ? "https:" : "http:" };
}

function isConfigured(configured: Origin, to: Endpoint): boolean {
  return to.protocol === configured.protocol && to.host === configured.host && to.port === configured.port;
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/** Whether `url` is at the configured scheme, host and port. */
export function sameOrigin(configured: Origin, url: URL): boolean {
  return isConfigured(configured, endpointOf(url));
}

/** The error for a redirect not followed (or a socket not opened); names where it pointed (no path, no query). */
export function offOrigin(configured: Origin, to: URL | Endpoint): Error {
  const { protocol, host, port } = to instanceof URL ? endpointOf(to) : to;
  const target = `${protocol}//${host.includes(":") ? `[${host}]` : host}:${port}`;
  const error = new Error(
    `refused to follow a redirect from ${configured.protocol}//${configured.host}:${configured.port} to ${target}: the Vault token is only sent to the configured address`,
  ) as Error & { code: string; target: string };
  error.code = OFF_ORIGIN;
  error.target = target;
  return error;
}

function allowed(
  configured: Origin,
  protocol: Origin["protocol"],
  options: ClientRequestArgs,
  defaultPort: number,
): Error | undefined {
  const host = bareHost(String(options.host ?? options.hostname ?? "localhost"));
  const port = options.port !== undefined && options.port !== null ? Number(options.port) : defaultPort;
  const to = { protocol, host, port };
  return isConfigured(configured, to) ? undefined : offOrigin(configured, to);
}

/** Fails the connection with `error` (asynchronously, as a failed connect would); false when there is none. */
function refuse(error: Error | undefined, callback: ConnectCallback | undefined): boolean {
  if (!error) return false;
  process.nextTick(() => callback?.(error, undefined as unknown as Duplex));
  return true;
}

class PinnedHttpAgent extends HttpAgent {
  constructor(private readonly origin: Origin) {
    super({ keepAlive: true });
  }

  override createConnection(options: ClientRequestArgs, callback?: ConnectCallback): Duplex | undefined {
    if (refuse(allowed(this.origin, "http:", options, 80), callback)) return undefined;
    return super.createConnection(options, callback) ?? undefined;
  }
}

class PinnedHttpsAgent extends HttpsAgent {
  constructor(
    private readonly origin: Origin,
    ca: Buffer | undefined,
  ) {
    // rejectUnauthorized stays at its default (true); `ca` only adds trust.
    super({ keepAlive: true, ...(ca ? { ca } : {}) });
  }

  override createConnection(options: HttpsRequestOptions, callback?: ConnectCallback): Duplex | undefined {
    if (refuse(allowed(this.origin, "https:", options, 443), callback)) return undefined;
    return super.createConnection(options, callback) ?? undefined;
  }
}

export interface PinnedAgents {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
}

/** Agents that only ever connect to `address`'s scheme, host and port. */
export function pinnedAgents(address: string, ca: Buffer | undefined): PinnedAgents {
  const origin = originOf(address);
  return { httpAgent: new PinnedHttpAgent(origin), httpsAgent: new PinnedHttpsAgent(origin, ca) };
}
