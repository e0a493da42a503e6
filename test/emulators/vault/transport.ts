/**
 * The emulator's HTTP front: TCP (or TLS) listener → LIST-verb shim → Node's HTTP server → one handler
 * per request that applies injected faults, hands the request to the Vault core, writes the answer the
 * way Vault's HTTP layer does, and logs one line (`METHOD /v1/path STATUS`, never tokens, bodies or queries).
 */
import type { EventEmitter } from "node:events";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { createServer as createTlsServer } from "node:tls";
import type { Reply } from "./envelope.js";
import type { FaultInjector } from "./faults.js";
import { LIST_MARKER, ListVerbShim } from "./list-shim.js";
import type { VaultCore } from "./router.js";

/** Vault's max request size (api-docs/index.mdx § Limits). */
const MAX_BODY = 32 * 1024 * 1024;

export interface Front {
  core: VaultCore;
  faults: FaultInjector;
  logs: string[];
  /** Emits `request` {method, path, status} after each answer. */
  events: EventEmitter;
  stats: { requests: number; connections: number };
}

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

/** JSON with Content-Type and Cache-Control as Vault sets them; no body (and no type) for 204. */
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

async function answer(front: Front, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://vault.invalid");
  const method = req.headers[LIST_MARKER] ? "LIST" : (req.method ?? "GET");
  if (method === "LIST") url.searchParams.delete("list");
  const v1 = url.pathname.startsWith("/v1/");
  const path = v1 ? decodeURIComponent(url.pathname.slice(4)) : url.pathname;
  const finish = (status: number | "dropped") => {
    front.logs.push(`${method} ${url.pathname} ${status}`);
    front.stats.requests++;
    front.events.emit("request", { method, path, status });
  };
  const latency = front.faults.latencyMs(path);
  if (latency > 0) await delay(latency);
  const decision = front.faults.next(path);
  if (decision.kind === "drop") {
    req.socket.destroy();
    return finish("dropped");
  }
  const body = await readBody(req);
  let reply: Reply;
  if (decision.kind === "fail") reply = { status: decision.status, body: decision.body };
  else if (!v1) reply = { status: 404, body: { errors: [] } };
  else if (body === undefined) reply = { status: 413, body: { errors: ["http: request body too large"] } };
  else reply = await front.core.handle({ method, path, query: url.searchParams, headers: req.headers, body });
  if (decision.kind === "drop-after") {
    // The request took effect; its answer is lost on the way back.
    req.socket.destroy();
    return finish("dropped");
  }
  send(res, reply, method === "HEAD");
  finish(reply.status);
}

export function requestHandler(front: Front): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    answer(front, req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { errors: [String(error)] } }, false);
    });
  };
}

export interface Listener {
  url: string;
  stop(): Promise<void>;
}

/** Listens on TCP (or TLS with `tls`), each connection through the LIST shim into one HTTP server. */
export async function listen(
  options: { port?: number; host?: string; tls?: { certPem: string; keyPem: string } },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  stats: { connections: number },
): Promise<Listener> {
  const http = createHttpServer(handler);
  const sockets = new Set<Socket>();
  const accept = (socket: Socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    http.emit("connection", new ListVerbShim(socket));
  };
  // With TLS the shim sits on the decrypted stream; the raw TCP socket belongs to the TLS server.
  const server = options.tls
    ? createTlsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, accept)
    : createNetServer(accept);
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("vault emulator: no TCP address");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${address.port}`,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      http.close();
      await closed;
    },
  };
}
