/**
 * `sys/health` (api-docs/system/health.mdx, http/sys_health.go): unauthenticated, answers even when
 * sealed, the status code tells the node's state and can be overridden per query; the body is the health
 * object itself (no envelope), and HEAD answers the status without a body.
 */
import { randomUUID } from "node:crypto";
import { type Reply, fail } from "./envelope.js";
import { epochSeconds } from "./time.js";

export const EMULATED_VERSION = "1.17.6";

/** True when `version` ("1.16.3", "1.17.0-rc1") is at least major.minor. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [maj = 0, min = 0] = version.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  return maj > major || (maj === major && min >= minor);
}

export interface NodeState {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  performanceStandby: boolean;
}

const CLUSTER = { name: `vault-cluster-${randomUUID().slice(0, 8)}`, id: randomUUID() };

function flag(query: URLSearchParams, name: string): boolean | "bad" {
  if (!query.has(name)) return false;
  const value = (query.get(name) ?? "").toLowerCase();
  if (value === "" || ["1", "t", "true"].includes(value)) return true;
  if (["0", "f", "false"].includes(value)) return false;
  return "bad";
}

function code(query: URLSearchParams, name: string, fallback: number): number | "bad" {
  const raw = query.get(name);
  if (raw === null) return fallback;
  return /^\d+$/.test(raw) ? Number(raw) : "bad";
}

function status(state: NodeState, query: URLSearchParams): number | string {
  const standbyOk = flag(query, "standbyok");
  const perfStandbyOk = flag(query, "perfstandbyok");
  if (standbyOk === "bad") return "bad value for standbyok parameter";
  if (perfStandbyOk === "bad") return "bad value for perfstandbyok parameter";
  const codes = {
    active: code(query, "activecode", 200),
    standby: code(query, "standbycode", 429),
    perf: code(query, "performancestandbycode", 473),
    sealed: code(query, "sealedcode", 503),
    uninit: code(query, "uninitcode", 501),
  };
  for (const [name, value] of Object.entries(codes)) if (value === "bad") return `bad code for ${name}`;
  const pick = (value: number | "bad") => value as number;
  if (!state.initialized) return pick(codes.uninit);
  if (state.sealed) return pick(codes.sealed);
  if (state.performanceStandby && !perfStandbyOk) return pick(codes.perf);
  if (state.standby && !standbyOk) return pick(codes.standby);
  return pick(codes.active);
}

export function health(
  state: NodeState,
  query: URLSearchParams,
  head: boolean,
  version = EMULATED_VERSION,
): Reply {
  const code = status(state, query);
  if (typeof code === "string") return fail(400, code);
  if (head) return { status: code };
  const unsealed = state.initialized && !state.sealed;
  return {
    status: code,
    body: {
      initialized: state.initialized,
      sealed: state.sealed,
      standby: state.standby || state.sealed,
      performance_standby: state.performanceStandby,
      replication_performance_mode: "disabled",
      replication_dr_mode: "disabled",
      server_time_utc: epochSeconds(),
      version,
      enterprise: false,
      ...(unsealed ? { cluster_name: CLUSTER.name, cluster_id: CLUSTER.id } : {}),
      echo_duration_ms: 0,
      clock_skew_ms: 0,
    },
  };
}
