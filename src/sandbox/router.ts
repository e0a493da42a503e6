/**
 * Route table and per-request context of the sandbox. Each route declares its guard:
 * - "client-cert": the mTLS routes (token, protected calls). The handler must call `ctx.clientCert()`
 *   (which refuses with 401 Invalid Client Certificate) before it may answer a success: `ctx.reply`
 *   refuses to send a 2xx otherwise, so no protected route can forget the check.
 * - "admin": the CORE admin API; the dispatcher checks the Bearer API key before the handler runs.
 * - "portal": the bank's portal (a person binding, unbinding, signing); its own Bearer key, checked the same way.
 * - "none": public documents (the JWKS).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultEndpoint } from "./faults.js";
import { HttpError, sendJson } from "./http.js";
import type { Peer } from "./peer.js";

export type Guard = "none" | "client-cert" | "admin" | "portal";

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly now: Date;
  /** The socket's remote address as seen by the server. */
  readonly remoteAddress: string | undefined;
  /**
   * The presented client certificate once it is trusted (chain, validity, EKU) and, when `boundTo` is
   * given, bound to that credential. Throws 401 Invalid Client Certificate otherwise.
   */
  clientCert(boundTo?: string): Peer;
  /** Sends a JSON answer. */
  reply(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Adds safe fields (never secrets) to this request's sandbox log entry. */
  note(fields: {
    clientId?: string;
    reason?: string;
    idempotencyKey?: string;
    clientAuth?: "basic" | "body";
  }): void;
}

export interface Route {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path with `:name` parameters, e.g. "/admin/v1/credentials/:clientId". */
  readonly path: string;
  readonly guard: Guard;
  readonly endpoint: FaultEndpoint | undefined;
  handle(ctx: RouteContext): Promise<void> | void;
}

export interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly names: string[];
}

export function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { ...route, pattern: new RegExp(`^${source}$`), names };
}

/** The route for `method path`, its decoded params, or the status to answer (404 / 405). */
export function match(
  routes: readonly CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; params: Record<string, string> } | { status: 404 | 405 } {
  let pathMatched = false;
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, index) => {
      params[name] = decodeURIComponent(found[index + 1]!);
    });
    return { route, params };
  }
  return { status: pathMatched ? 405 : 404 };
}

/** `reply` for a route: refuses a success answer from a "client-cert" route that never checked the cert. */
export function replier(
  res: ServerResponse,
  route: Route,
  certChecked: () => boolean,
  onStatus: (status: number) => void,
): RouteContext["reply"] {
  return (status, body, headers) => {
    if (route.guard === "client-cert" && status < 400 && !certChecked()) {
      throw new HttpError(500, "server_error", "internal error", "route_skipped_client_cert_check");
    }
    onStatus(status);
    sendJson(res, status, body, headers);
  };
}
