/**
 * node-vault's HTTP transport, through its `request-promise` option: one node:http(s) request per call on the
 * pinned agents (vault-transport.ts), the JSON body parsed, redirects followed by hand and only within the
 * configured origin. node-vault's own transport is axios with follow-redirects, which cost a quarter of a
 * 10,000-credential scan's CPU (docs/benchmarks.md) for features a Vault call does not use (interceptors,
 * config merging, proxies, streams); and following a redirect here means the origin check comes before the
 * request, with the agents' refusal kept as a second line.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { offOrigin, type Origin, originOf, type PinnedAgents, sameOrigin } from "./vault-transport.js";

/** What node-vault passes to its transport (its request options merged with ours). */
export interface TransportOptions {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
}

/** What node-vault reads back: `request-promise`'s full response with `simple: false`. */
export interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

type Send = (options: TransportOptions) => Promise<TransportResponse>;

/** node-vault calls `defaults(rpDefaults)` once and sends every request through the function it returns. */
export interface RequestPromiseLike {
  defaults(defaults: object): Send;
}

/** The statuses that redirect (with a Location). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** As many as follow-redirects allowed; a node redirecting more than this is looping. */
const MAX_REDIRECTS = 21;
/** Bodies beyond this are refused: a KV listing of 100,000 keys is a few MB. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

function transportError(code: string, message: string): Error & { code: string } {
  const error = new Error(message) as Error & { code: string };
  error.code = code;
  return error;
}

/** Empty → "" (a 204), JSON → parsed, anything else (a proxy's HTML page) → the text, as axios gave it. */
function parseBody(text: string): unknown {
  if (text === "") return "";
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

interface Answer {
  status: number;
  location: string | undefined;
  body: unknown;
}

function once(
  url: URL,
  method: string,
  headers: OutgoingHttpHeaders,
  payload: Buffer | undefined,
  agents: PinnedAgents,
  limit: { deadline: number; ms: number } | undefined,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === "https:";
    const req = (https ? httpsRequest : httpRequest)(url, {
      method,
      headers,
      agent: https ? agents.httpsAgent : agents.httpAgent,
    });
    let timer: NodeJS.Timeout | undefined;
    if (limit) {
      timer = setTimeout(
        () =>
          req.destroy(transportError("ETIMEDOUT", `no answer from Vault: timeout of ${limit.ms}ms exceeded`)),
        Math.max(0, limit.deadline - Date.now()),
      );
    }
    const done = (fn: () => void): void => {
      if (timer) clearTimeout(timer);
      fn();
    };
    req.on("error", (error) => done(() => reject(error)));
    req.on("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy(transportError("ERR_CERTROTOR_VAULT_BODY_TOO_LARGE", "Vault's answer is over 64 MiB"));
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", (error) => done(() => reject(error)));
      res.on("end", () =>
        done(() =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            body: parseBody(Buffer.concat(chunks).toString("utf8")),
          }),
        ),
      );
    });
    req.end(payload);
  });
}

/** 301/302 turn a POST into a GET (as browsers and follow-redirects do); 303 turns everything but HEAD into one. */
function redirectedMethod(status: number, method: string): string {
  if (status === 303 && method !== "HEAD") return "GET";
  if ((status === 301 || status === 302) && method === "POST") return "GET";
  return method;
}

interface Route {
  origin: Origin;
  agents: PinnedAgents;
  /** requestTimeout: bounds the whole call, redirects included. */
  timeoutMs: number | undefined;
}

async function send(
  { origin, agents, timeoutMs }: Route,
  options: TransportOptions,
): Promise<TransportResponse> {
  const limit = timeoutMs ? { deadline: Date.now() + timeoutMs, ms: timeoutMs } : undefined;
  let url = new URL(options.uri);
  let method = options.method;
  let payload = options.json !== undefined ? Buffer.from(JSON.stringify(options.json)) : undefined;
  for (let redirects = 0; ; redirects++) {
    const headers: OutgoingHttpHeaders = { Accept: "application/json", ...options.headers };
    if (payload) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = payload.length;
    }
    const answer = await once(url, method, headers, payload, agents, limit);
    const redirect = REDIRECTS.has(answer.status) && answer.location;
    if (!redirect) return { statusCode: answer.status, body: answer.body, request: { path: url.pathname } };
    if (redirects >= MAX_REDIRECTS)
      throw transportError(
        "ERR_CERTROTOR_VAULT_REDIRECT_LOOP",
        `Vault redirected more than ${MAX_REDIRECTS} times`,
      );
    const next = new URL(redirect, url);
    if (!sameOrigin(origin, next)) throw offOrigin(origin, next);
    method = redirectedMethod(answer.status, method);
    if (method === "GET") payload = undefined;
    url = next;
  }
}

/** The transport for node-vault's `request-promise` option, sending only to `address`'s origin. */
export function vaultHttp(address: string, agents: PinnedAgents, timeoutMs?: number): RequestPromiseLike {
  const route = { origin: originOf(address), agents, timeoutMs };
  return { defaults: () => (options) => send(route, options) };
}
