/**
 * The KV secrets engine version 1 (api-docs/secret/kv/kv-v1.mdx, vault-plugin-secrets-kv passthrough.go), as
 * `vault secrets enable -version=1 kv` mounts it: a key holds the request body as written, with no versions,
 * no metadata and no check-and-set. A client that speaks KV v2 paths to it sees what real Vault shows it:
 * `GET <mount>/data/<key>` is the key "data/<key>" (usually absent: 404), and a v2-shaped write stores its
 * whole `{"data":…,"options":…}` body under that key and answers 204.
 */
import type { Engine, EngineRequest } from "./engine.js";
import { type Reply, fail, noContent, notFound, ok } from "./envelope.js";
import { listChildren } from "./kv-store.js";

/** passthrough.go answers reads with the mount's default lease (768h) as lease_duration. */
const DEFAULT_LEASE_SECONDS = 768 * 3600;

export class KvV1Engine implements Engine {
  readonly type = "kv";
  readonly options = { version: "1" };
  readonly description = "key/value secret storage";
  readonly keys = new Map<string, Record<string, unknown>>();

  writeOperation(path: string): "create" | "update" {
    return this.keys.has(path) ? "update" : "create";
  }

  isUnauthenticated(): boolean {
    return false;
  }

  handle(request: EngineRequest): Reply {
    const { operation: op, path } = request;
    if (op === "list") {
      const keys = listChildren(this.keys.keys(), path);
      return keys.length === 0 ? notFound() : ok({ keys }, { mountType: this.type });
    }
    if (path === "" || path.endsWith("/")) return fail(405, "unsupported operation");
    switch (op) {
      case "read": {
        const data = this.keys.get(path);
        if (!data) return notFound();
        const reply = ok(structuredClone(data), { mountType: this.type });
        (reply.body as { lease_duration: number }).lease_duration = DEFAULT_LEASE_SECONDS;
        return reply;
      }
      case "create":
      case "update":
        if (Object.keys(request.data).length === 0) return fail(400, "missing data fields");
        this.keys.set(path, structuredClone(request.data));
        return noContent();
      case "delete":
        this.keys.delete(path);
        return noContent();
      default:
        return fail(405, "unsupported operation");
    }
  }
}
