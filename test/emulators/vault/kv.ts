/**
 * The KV v2 secrets engine's HTTP paths (path_data.go, path_metadata.go, path_delete.go, path_destroy.go,
 * path_config.go, backend.go pathInvalid), answering exactly what Vault answers, errors included.
 */
import type { Engine, EngineRequest } from "./engine.js";
import { type Reply, bare, fail, noContent, notFound, ok, rawEnvelope } from "./envelope.js";
import {
  type EngineConfig,
  type KeyMetadata,
  addVersion,
  checkAndSet,
  destroy,
  emptyMetadata,
  isDeleted,
  listChildren,
  mergePatch,
  softDelete,
  undelete,
  versionView,
} from "./kv-store.js";
import { metadataPatch, metadataRead, metadataWrite } from "./kv-metadata.js";
import { goDuration, parseDurationSeconds } from "./time.js";

const MOUNT_TYPE = "kv";

type Route =
  | { kind: "config" }
  | { kind: "data" | "metadata" | "delete" | "undelete" | "destroy"; key: string };

function route(path: string): Route | undefined {
  if (path === "config") return { kind: "config" };
  const data = /^data\/(.*[^/])$/.exec(path);
  if (data) return { kind: "data", key: data[1]! };
  const other = /^(metadata|delete|undelete|destroy)\/(.*)$/.exec(path);
  if (other) return { kind: other[1] as "metadata", key: other[2]! };
  return undefined;
}

/** backend.go pathInvalid: v1-style paths and the bare roots answer 404 with a warning. */
function invalidPath(request: EngineRequest): Reply {
  if (["metadata", "data", "delete", "undelete", "destroy"].includes(request.path)) {
    return rawEnvelope(404, null, [
      "Non-listing operations on the root of a K/V v2 mount are not supported.",
    ]);
  }
  const verbs = { create: "put", update: "put", patch: "patch", read: "get", list: "list", delete: "delete" };
  return rawEnvelope(404, null, [
    `Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${verbs[request.operation]}' for this operation.`,
  ]);
}

/** framework.TypeCommaIntSlice: `[1, "2"]`, `"1,2"` or `3`. */
export function versionList(raw: unknown): number[] {
  const items = Array.isArray(raw)
    ? raw
    : typeof raw === "string"
      ? raw.split(",")
      : raw === undefined
        ? []
        : [raw];
  return items.map((item) => Number(typeof item === "string" ? item.trim() : item)).filter(Number.isInteger);
}

export class KvEngine implements Engine {
  readonly type = MOUNT_TYPE;
  readonly options = { version: "2" };
  readonly description = "key/value secret storage";
  readonly keys = new Map<string, KeyMetadata>();
  readonly config: EngineConfig = { maxVersions: 0, casRequired: false, deleteVersionAfter: 0 };

  writeOperation(path: string): "create" | "update" {
    const r = route(path);
    if (r && (r.kind === "data" || r.kind === "metadata")) return this.keys.has(r.key) ? "update" : "create";
    return "update";
  }

  isUnauthenticated(): boolean {
    return false;
  }

  handle(request: EngineRequest): Reply {
    const r = route(request.path);
    if (!r) return invalidPath(request);
    const op = request.operation;
    const write = op === "create" || op === "update";
    switch (r.kind) {
      case "config":
        if (op === "read") return this.readConfig();
        if (write) return this.writeConfig(request.data);
        break;
      case "data":
        if (op === "read") return this.readData(r.key, request.query);
        if (write) return this.writeData(r.key, request.data);
        if (op === "patch") return this.patchData(r.key, request.data);
        if (op === "delete") return this.deleteLatest(r.key);
        break;
      case "metadata":
        return this.metadata(request, r.key);
      case "delete":
      case "undelete":
      case "destroy":
        if (write) return this.versionsOp(r.kind, r.key, request.data);
        break;
    }
    if (op === "list") return invalidPath(request);
    return fail(405, "unsupported operation");
  }

  private metadata(request: EngineRequest, key: string): Reply {
    switch (request.operation) {
      case "list":
        return this.list(key);
      case "read":
        return metadataRead(this.keys.get(key));
      case "create":
      case "update":
        return metadataWrite(this.keys, key, request.data, this.config);
      case "patch":
        return metadataPatch(this.keys.get(key), request.data, this.config);
      case "delete":
        this.keys.delete(key);
        return noContent();
    }
  }

  private list(folder: string): Reply {
    const keys = listChildren(this.keys.keys(), folder);
    return keys.length === 0 ? notFound() : ok({ keys }, { mountType: MOUNT_TYPE });
  }

  private readConfig(): Reply {
    return ok(
      {
        cas_required: this.config.casRequired,
        delete_version_after: goDuration(this.config.deleteVersionAfter),
        max_versions: this.config.maxVersions,
      },
      { mountType: MOUNT_TYPE },
    );
  }

  private writeConfig(data: Record<string, unknown>): Reply {
    if (data.max_versions !== undefined) this.config.maxVersions = Number(data.max_versions) || 0;
    if (data.cas_required !== undefined)
      this.config.casRequired = data.cas_required === true || data.cas_required === "true";
    if (data.delete_version_after !== undefined) {
      const seconds = parseDurationSeconds(data.delete_version_after);
      if (seconds === undefined) return fail(400, `invalid duration "${String(data.delete_version_after)}"`);
      this.config.deleteVersionAfter = seconds;
    }
    return noContent();
  }

  private readData(key: string, query: URLSearchParams): Reply {
    const meta = this.keys.get(key);
    if (!meta) return notFound();
    const requested = Number.parseInt(query.get("version") ?? "0", 10);
    if (Number.isNaN(requested))
      return fail(400, `error converting input for field "version": invalid syntax`);
    const number = requested > 0 ? requested : meta.currentVersion;
    const version = meta.versions.get(number);
    if (!version) return notFound();
    const metadata = versionView(number, version, meta);
    // A deleted or destroyed version: 404 whose body is a full envelope (RespondWithStatusCode).
    if (isDeleted(version) || version.destroyed) return rawEnvelope(404, { data: null, metadata });
    return ok({ data: structuredClone(version.data), metadata }, { mountType: MOUNT_TYPE });
  }

  private writeData(key: string, body: Record<string, unknown>): Reply {
    const data = body.data;
    if (data === undefined || data === null) return fail(400, "no data provided");
    if (typeof data !== "object" || Array.isArray(data)) {
      return fail(400, `error converting input for field "data": expected a map`);
    }
    const meta = this.keys.get(key) ?? emptyMetadata();
    const casError = checkAndSet(body.options, this.config, meta);
    if (casError) return fail(400, casError);
    const number = addVersion(meta, structuredClone(data as Record<string, unknown>), this.config);
    this.keys.set(key, meta);
    return ok(versionView(number, meta.versions.get(number)!, meta), { mountType: MOUNT_TYPE });
  }

  private patchData(key: string, body: Record<string, unknown>): Reply {
    if (body.data === undefined) return fail(400, "no data provided");
    const meta = this.keys.get(key);
    // RespondWithStatusCode(nil, req, 404): the status without a body.
    if (!meta) return bare(404);
    const casError = checkAndSet(body.options, this.config, meta);
    if (casError) return fail(400, casError);
    const current = meta.versions.get(meta.currentVersion);
    if (!current) return bare(404);
    if (isDeleted(current) || current.destroyed) {
      return rawEnvelope(404, versionView(meta.currentVersion, current, meta));
    }
    const patched = mergePatch(current.data, body.data) as Record<string, unknown>;
    const number = addVersion(meta, patched, this.config);
    return ok(versionView(number, meta.versions.get(number)!, meta), { mountType: MOUNT_TYPE });
  }

  private deleteLatest(key: string): Reply {
    const meta = this.keys.get(key);
    if (meta) softDelete(meta, [meta.currentVersion]);
    return noContent();
  }

  private versionsOp(
    kind: "delete" | "undelete" | "destroy",
    key: string,
    data: Record<string, unknown>,
  ): Reply {
    const versions = versionList(data.versions);
    if (versions.length === 0) {
      return fail(400, kind === "destroy" ? "no version number provided" : "No version number provided");
    }
    const meta = this.keys.get(key);
    if (!meta) return noContent();
    if (kind === "delete") softDelete(meta, versions);
    else if (kind === "undelete") undelete(meta, versions);
    else destroy(meta, versions);
    return noContent();
  }
}
