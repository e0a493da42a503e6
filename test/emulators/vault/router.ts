/**
 * Vault's request pipeline for one HTTP request (http/logical.go + vault/request_handling.go + router.go),
 * after the transport: namespace resolution, verb → logical operation, seal check, token check, ACL, and
 * dispatch to the auth backend or the engine mounted at the longest matching prefix.
 *
 * Simplification: auth methods (token, AppRole) are shared by every namespace and all tokens live in the
 * root namespace; policies name full paths, child namespaces included (`ns1/secret/data/*`), as root
 * namespace policies do in Vault Enterprise.
 */
import type { IncomingHttpHeaders } from "node:http";
import { AuthBackend, type LockoutOptions } from "./auth.js";
import type { Engine, Operation } from "./engine.js";
import {
  INVALID_TOKEN_BEFORE_1_17,
  INVALID_TOKEN_SINCE_1_17,
  PERMISSION_DENIED,
  type Reply,
  fail,
} from "./envelope.js";
import { KvEngine } from "./kv.js";
import { EMULATED_VERSION, type NodeState, health, versionAtLeast } from "./sys.js";
import { type Capability, type TokenEntry, TokenStore } from "./tokens.js";
import { UI_MOUNTS, uiMount } from "./ui-mounts.js";

export interface CoreOptions {
  /** The Vault version emulated (default EMULATED_VERSION): sys/health shows it, and it picks the 403 body of an invalid token. */
  version?: string;
  /** AppRole user lockout settings (default Vault's: 5 failures, 15 minutes). */
  lockout?: LockoutOptions;
}

export interface CoreRequest {
  /** HTTP verb, LIST included. */
  method: string;
  /** Path after `/v1/`, URL-decoded, without the namespace header applied. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Resolved =
  | { kind: "auth"; path: string }
  | { kind: "engine"; engine: Engine; path: string }
  | { kind: "none" };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `ns1/ns2/` form: no leading slash, one trailing slash; "" for the root namespace. */
export function normalizeNamespace(raw: string | undefined): string {
  const trimmed = (raw ?? "").replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? "" : `${trimmed}/`;
}

function clientToken(headers: IncomingHttpHeaders): string | undefined {
  const direct = header(headers, "x-vault-token");
  if (direct) return direct;
  const bearer = /^Bearer\s+(.+)$/i.exec(header(headers, "authorization") ?? "");
  return bearer?.[1];
}

/** strconv.ParseBool, as http/logical.go parses `?list=`. */
function parseBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

export class VaultCore {
  readonly tokens = new TokenStore();
  readonly auth: AuthBackend;
  readonly version: string;
  readonly state: NodeState = { initialized: true, sealed: false, standby: false, performanceStandby: false };
  private readonly namespaces = new Map<string, Map<string, Engine>>();

  constructor(rootToken: string, mounts: Map<string, Engine>, options: CoreOptions = {}) {
    this.version = options.version ?? EMULATED_VERSION;
    this.auth = new AuthBackend(this.tokens, options.lockout);
    this.tokens.createRoot(rootToken);
    this.namespaces.set("", mounts);
  }

  /** The 403 for a missing, revoked or expired token, as the emulated version words it. */
  private invalidToken(): Reply {
    return fail(
      403,
      versionAtLeast(this.version, 1, 17) ? INVALID_TOKEN_SINCE_1_17 : INVALID_TOKEN_BEFORE_1_17,
    );
  }

  /** Creates a child namespace with its own KV v2 at `secret/` (as an admin would mount it). */
  addNamespace(path: string): void {
    const ns = normalizeNamespace(path);
    if (ns !== "" && !this.namespaces.has(ns))
      this.namespaces.set(ns, new Map([["secret/", new KvEngine()]]));
  }

  async handle(request: CoreRequest): Promise<Reply> {
    const full = normalizeNamespace(header(request.headers, "x-vault-namespace")) + request.path;
    const ns = [...this.namespaces.keys()]
      .filter((n) => full.startsWith(n))
      .sort((a, b) => b.length - a.length)[0]!;
    let rel = full.slice(ns.length);
    if (rel === "sys/health") {
      if (request.method !== "GET" && request.method !== "HEAD") return fail(405);
      return health(this.state, request.query, request.method === "HEAD", this.version);
    }
    if (this.state.sealed) return fail(503, "Vault is sealed");
    const op = this.operation(request);
    if (typeof op !== "string") return op;
    const uiMountPath = UI_MOUNTS.exec(rel);
    if (uiMountPath && op === "read") {
      const caller = this.tokens.lookup(clientToken(request.headers));
      if (!caller) return this.invalidToken();
      return uiMount(this.namespaces.get(ns)!, ns, uiMountPath[1]!, caller, this.tokens);
    }
    if (op === "list" && !rel.endsWith("/")) rel += "/";
    const data = this.data(request, op);
    if (!data) return fail(400, "error parsing JSON");
    const target = this.resolve(ns, rel);
    const token = this.tokens.lookup(clientToken(request.headers));
    if (!this.isUnauthenticated(target, op)) {
      if (!token) return this.invalidToken();
      const denied = this.checkAcl(token, target, op, ns + rel);
      if (denied) return denied;
    }
    const operation: Operation = op === "write" ? this.writeOperation(target) : op;
    if (target.kind === "auth") return this.auth.handle(target.path, operation, data, token);
    if (target.kind === "none") return fail(404, `no handler for route "${rel}". route entry not found.`);
    return target.engine.handle({ operation, path: target.path, data, query: request.query });
  }

  private operation(request: CoreRequest): Exclude<Operation, "create" | "update"> | "write" | Reply {
    switch (request.method) {
      case "GET": {
        const list = request.query.get("list");
        if (list === null) return "read";
        const parsed = parseBool(list);
        if (parsed === undefined) return fail(400);
        return parsed ? "list" : "read";
      }
      case "LIST":
        return "list";
      case "POST":
      case "PUT":
        return "write";
      case "PATCH":
        if (!/^application\/merge-patch\+json/i.test(header(request.headers, "content-type") ?? "")) {
          return fail(415, "PATCH requires Content-Type application/merge-patch+json");
        }
        return "patch";
      case "DELETE":
        return "delete";
      default:
        return fail(405);
    }
  }

  /** Writes carry a JSON object body (empty = {}); reads carry their query parameters. */
  private data(request: CoreRequest, op: string): Record<string, unknown> | undefined {
    if (op === "write" || op === "patch") {
      if (request.body.length === 0) return {};
      try {
        const parsed: unknown = JSON.parse(request.body.toString("utf8"));
        return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : undefined;
      } catch {
        return undefined;
      }
    }
    const data: Record<string, unknown> = {};
    for (const [key, value] of request.query) if (key !== "list") data[key] = value;
    return data;
  }

  private resolve(ns: string, rel: string): Resolved {
    const auth = /^auth\/((?:token|approle)\/.*)$/.exec(rel);
    if (auth) return { kind: "auth", path: auth[1]! };
    const mounts = this.namespaces.get(ns)!;
    const mount = [...mounts.keys()].filter((m) => rel.startsWith(m)).sort((a, b) => b.length - a.length)[0];
    if (mount === undefined) return { kind: "none" };
    return { kind: "engine", engine: mounts.get(mount)!, path: rel.slice(mount.length) };
  }

  private isUnauthenticated(target: Resolved, op: string): boolean {
    if (target.kind === "auth") return this.auth.isUnauthenticated(target.path);
    if (target.kind === "engine") return target.engine.isUnauthenticated(op as Operation, target.path);
    return false;
  }

  private writeOperation(target: Resolved): "create" | "update" {
    return target.kind === "engine" ? target.engine.writeOperation(target.path) : "update";
  }

  private checkAcl(token: TokenEntry, target: Resolved, op: string, aclPath: string): Reply | undefined {
    if (target.kind === "auth" && this.auth.isSelfService(target.path)) return undefined;
    const capability = (op === "write" ? this.writeOperation(target) : op) as Capability;
    return this.tokens.allowed(token, aclPath, capability) ? undefined : fail(403, PERMISSION_DENIED);
  }
}
