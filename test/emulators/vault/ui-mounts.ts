/**
 * `GET sys/internal/ui/mounts/<path>` (vault/logical_system.go pathInternalUIMountRead): the mount serving a
 * path, with its type and options. The Vault CLI reads it before every `vault kv` command to tell KV v1 from
 * v2 (command/kv_helpers.go kvPreflightVersionRequest). The path is in the system backend's unauthenticated
 * list, but the handler checks the token itself: it answers only when the token's policies grant something
 * on or under the mount (hasMountAccess), and gives the same 403 for "no such mount" so the endpoint cannot
 * be used to list mounts.
 */
import { createHash } from "node:crypto";
import type { Engine } from "./engine.js";
import { type Reply, fail, ok } from "./envelope.js";
import type { TokenEntry, TokenStore } from "./tokens.js";

export const UI_MOUNTS = /^sys\/internal\/ui\/mounts\/(.+)$/;

/** A stable accessor per mount (`kv_1a2b3c4d`), as Vault shows one. */
function accessor(engine: Engine, path: string): string {
  return `${engine.type}_${createHash("sha256").update(path).digest("hex").slice(0, 8)}`;
}

function mountInfo(engine: Engine, path: string): Record<string, unknown> {
  return {
    accessor: accessor(engine, path),
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description: engine.description,
    external_entropy_access: false,
    local: false,
    options: engine.options,
    path,
    plugin_version: "",
    running_plugin_version: engine.type === "kv" ? "v0.20.0+builtin" : "v1.17.6+builtin.vault",
    running_sha256: "",
    seal_wrap: false,
    type: engine.type,
    uuid: createHash("sha256").update(`uuid:${path}`).digest("hex").slice(0, 32),
  };
}

/**
 * The answer for `requested` (relative to namespace `ns`), among `mounts`; `token` is the caller's live token
 * (undefined when missing or invalid: the caller answers the token error before calling this).
 */
export function uiMount(
  mounts: ReadonlyMap<string, Engine>,
  ns: string,
  requested: string,
  token: TokenEntry,
  tokens: TokenStore,
): Reply {
  // sanitizePath: no leading slash, one trailing slash.
  const path = `${requested.replace(/^\/+|\/+$/g, "")}/`;
  const denied = fail(
    403,
    `preflight capability check returned 403, please ensure client's policies grant access to path "${path}"`,
  );
  const mount = [...mounts.keys()].filter((m) => path.startsWith(m)).sort((a, b) => b.length - a.length)[0];
  if (mount === undefined) return denied;
  if (!tokens.hasMountAccess(token, ns + mount)) return denied;
  return ok(mountInfo(mounts.get(mount)!, mount), { mountType: "system" });
}
