/**
 * The contract between the HTTP front (server.ts) and a mounted secrets engine (kv.ts, pki.ts), shaped
 * like Vault's logical.Request: the operation Vault derived from the HTTP verb, the path relative to the
 * mount, and the request data (JSON body for writes, query parameters for reads).
 */
import type { Reply } from "./envelope.js";

/** Vault's logical operations. `create` vs `update` is decided by the engine's existence check. */
export type Operation = "read" | "list" | "create" | "update" | "patch" | "delete";

export interface EngineRequest {
  operation: Operation;
  /** Path relative to the mount, e.g. `data/app/cred`; list paths always end in "/" (as Vault forces). */
  path: string;
  /** Request data: the JSON body of a write, the query parameters of a read. */
  data: Record<string, unknown>;
  /** Raw query string parameters (reads carry `version` here). */
  query: URLSearchParams;
}

export interface Engine {
  /** `mount_type` in replies: "kv", "pki". */
  readonly type: string;
  /** The mount's `options` as `sys/internal/ui/mounts` shows them: `{"version":"2"}` for KV v2, null for PKI. */
  readonly options: Record<string, string> | null;
  /** The mount's description (what `vault secrets list` shows). */
  readonly description: string;
  /**
   * Vault's ExistenceCheck: a write to an existing path is `update`, to a new one `create`; paths without
   * an existence check always take `update`.
   */
  writeOperation(path: string): "create" | "update";
  /** Paths the engine serves without a token (PKI's CA reads). */
  isUnauthenticated(operation: Operation, path: string): boolean;
  handle(request: EngineRequest): Reply | Promise<Reply>;
}
