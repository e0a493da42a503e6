/**
 * One request through the sandbox: route match → faults → guard → handler → error answer → log entry.
 * The log entry holds only safe fields (no body, no headers, no secret).
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { INVALID_CLIENT_CERTIFICATE } from "./api-routes.js";
import type { FaultEndpoint, FaultInjector } from "./faults.js";
import { HttpError, sendError } from "./http.js";
import type { Peer, PeerJudge } from "./peer.js";
import { type CompiledRoute, match, type RouteContext, replier } from "./router.js";
import type { SandboxState } from "./state.js";

export interface SandboxLogEntry {
  at: string;
  method: string;
  path: string;
  endpoint: FaultEndpoint | "other";
  status: number | "dropped" | "tls_error";
  remoteAddress: string | undefined;
  clientId?: string;
  /** Why a request was refused or faulted (e.g. "cert_not_bound", "ip_not_allowed", "fault"). */
  reason?: string;
  /** SHA-256 (hex) of the client certificate presented, when there was one. */
  certFingerprint?: string;
  /** The Idempotency-Key of a CSR signing request (certrotor's names the rotation): who asked for a cert. */
  idempotencyKey?: string;
  /** How an OAuth 2.0 token request authenticated the client (RFC 6749 § 2.3.1). */
  clientAuth?: "basic" | "body";
}

export interface DispatchDeps {
  readonly routes: readonly CompiledRoute[];
  readonly state: SandboxState;
  readonly faults: FaultInjector;
  readonly now: () => Date;
  readonly adminApiKey: string;
  /** Bearer key of the portal routes (the person at the bank's portal). */
  readonly portalApiKey: string;
  /** Trust decisions for client certificates (the configured bundle plus the bank's CA). */
  readonly judge: PeerJudge;
  readonly log: (entry: SandboxLogEntry) => void;
}

const invalidClientCert = (reason: string): HttpError =>
  new HttpError(401, "invalid_client", INVALID_CLIENT_CERTIFICATE, reason);

function bearerKeyMatches(header: string | undefined, key: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1] ?? "";
  const a = Buffer.from(presented);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function dispatch(req: IncomingMessage, res: ServerResponse, deps: DispatchDeps): Promise<void> {
  const now = deps.now();
  const path = (req.url ?? "/").split("?")[0]!;
  const socket = req.socket as TLSSocket;
  const entry: SandboxLogEntry = {
    at: now.toISOString(),
    method: req.method ?? "?",
    path,
    endpoint: "other",
    status: 500,
    remoteAddress: socket.remoteAddress,
  };
  const fingerprint = socket.getPeerX509Certificate()?.fingerprint256.replace(/:/g, "").toLowerCase();
  if (fingerprint) entry.certFingerprint = fingerprint;
  try {
    const found = match(deps.routes, entry.method, path);
    if ("status" in found) {
      throw new HttpError(
        found.status,
        found.status === 404 ? "not_found" : "method_not_allowed",
        `no route ${entry.method} ${path}`,
      );
    }
    const { route, params } = found;
    entry.endpoint = route.endpoint ?? "other";
    if (route.endpoint && (await applyFaults(route.endpoint, socket, res, deps, entry))) return;
    if (route.guard === "admin" && !bearerKeyMatches(req.headers.authorization, deps.adminApiKey)) {
      throw new HttpError(401, "unauthorized", "missing or wrong admin API key", "admin_key");
    }
    if (route.guard === "portal" && !bearerKeyMatches(req.headers.authorization, deps.portalApiKey)) {
      throw new HttpError(401, "unauthorized", "missing or wrong portal key", "portal_key");
    }
    await route.handle(routeContext(req, res, { route, params, now, socket, entry }, deps));
  } catch (error) {
    const refusal =
      error instanceof HttpError ? error : new HttpError(500, "server_error", "internal error", "internal");
    entry.status = refusal.status;
    if (refusal.reason) entry.reason = refusal.reason;
    if (!res.headersSent) sendError(res, refusal);
  } finally {
    deps.log(entry);
  }
}

/** The handler's view of one request; `clientCert` is the only way for an mTLS route to reach a success. */
function routeContext(
  req: IncomingMessage,
  res: ServerResponse,
  at: {
    route: CompiledRoute;
    params: Record<string, string>;
    now: Date;
    socket: TLSSocket;
    entry: SandboxLogEntry;
  },
  deps: DispatchDeps,
): RouteContext {
  const { route, params, now, socket, entry } = at;
  let certChecked = false;
  return {
    req,
    params,
    now,
    remoteAddress: socket.remoteAddress,
    clientCert(boundTo?: string): Peer {
      const check = deps.judge.check(socket, now);
      if (!check.ok) throw invalidClientCert(check.reason);
      const { fingerprint, info } = check.peer;
      if (boundTo !== undefined && !deps.state.accepts(boundTo, { fingerprint, subject: info.subject })) {
        throw invalidClientCert("cert_not_bound");
      }
      certChecked = true;
      return check.peer;
    },
    reply: replier(
      res,
      route,
      () => certChecked,
      (status) => {
        entry.status = status;
      },
    ),
    note(fields) {
      Object.assign(entry, fields);
    },
  };
}

/** True when a fault answered (or dropped) the request. */
async function applyFaults(
  endpoint: FaultEndpoint,
  socket: TLSSocket,
  res: ServerResponse,
  deps: DispatchDeps,
  entry: SandboxLogEntry,
): Promise<boolean> {
  const latency = deps.faults.latencyMs(endpoint);
  if (latency > 0) await sleep(latency);
  const decision = deps.faults.next(endpoint);
  if (decision.kind === "none") return false;
  entry.reason = "fault";
  if (decision.kind === "drop") {
    entry.status = "dropped";
    socket.destroy();
    return true;
  }
  entry.status = decision.status;
  sendError(res, new HttpError(decision.status, "server_error", "Service Unavailable (injected fault)"));
  return true;
}
