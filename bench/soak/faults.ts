/**
 * The soak's faults: a share of 5xx answers and of dropped connections on the bank sandbox (token and
 * admin endpoints) and on both store emulators (Vault: before and after the write is carried out; AWS
 * the same), and counters of what was injected, read from each server's own reports.
 */
import type { SandboxLogEntry } from "../../src/sandbox/server.js";
import type { SoakWorld } from "./world.js";

export interface FaultRates {
  /** Share of requests answered with a 5xx. */
  errorRate: number;
  /** Share of requests whose connection is destroyed before they are handled. */
  dropRate: number;
  /** Share of store requests carried out whose answer is lost (the bank sandbox only drops before). */
  dropAfterRate: number;
}

interface ServerCounts {
  requests: number;
  errors: number;
  drops: number;
  /** Requests by route (ids replaced by ":id"), the busiest first: where the load comes from. */
  byRoute: Record<string, number>;
}

export interface InjectedFaults {
  bank: ServerCounts;
  vault: ServerCounts;
  aws: ServerCounts;
}

/** Credential names, client ids and fingerprints in a path, so requests group by route. */
const ID_SEGMENT = /(?<=\/)(?:soak\/)?(?:cred-\d+|[0-9a-f]{16,}|[A-Za-z0-9_-]{20,})(?=[/.]|$)/g;

function countRoute(counts: ServerCounts, route: string): void {
  counts.byRoute[route] = (counts.byRoute[route] ?? 0) + 1;
}

function sortedRoutes(byRoute: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(byRoute).sort((a, b) => b[1] - a[1]));
}

export function applyFaults(world: SoakWorld, rates: FaultRates, seed: number): void {
  const bank = { failRate: rates.errorRate, failStatus: 503 as const, dropRate: rates.dropRate };
  world.sandbox.setFaults({ token: { ...bank, seed }, admin: { ...bank, seed: seed + 1 } });
  world.vault.setFaults({
    failRate: rates.errorRate,
    failStatuses: [500, 503],
    dropRate: rates.dropRate,
    dropAfterRate: rates.dropAfterRate,
    seed: seed + 2,
  });
  world.aws.setFaults({
    errorRate: rates.errorRate,
    dropRate: rates.dropRate,
    dropAfterRate: rates.dropAfterRate,
    seed: seed + 3,
  });
}

export function clearFaults(world: SoakWorld): void {
  world.sandbox.setFaults({});
  world.vault.setFaults({});
  world.aws.setFaults({});
}

/**
 * Counts what the servers injected. The bank reports each request (`onBankRequest`); Vault keeps
 * counters; the AWS emulator only keeps a capped log of lines, so each line is counted as it is added.
 */
export function faultCounter(): {
  counts: InjectedFaults;
  onBankRequest(entry: SandboxLogEntry): void;
  watch(world: SoakWorld): () => InjectedFaults;
} {
  const empty = (): ServerCounts => ({ requests: 0, errors: 0, drops: 0, byRoute: {} });
  const counts: InjectedFaults = { bank: empty(), vault: empty(), aws: empty() };
  return {
    counts,
    onBankRequest(entry) {
      counts.bank.requests++;
      countRoute(counts.bank, `${entry.method} ${entry.path.replace(ID_SEGMENT, ":id")}`);
      if (entry.reason !== "fault") return;
      if (entry.status === "dropped") counts.bank.drops++;
      else counts.bank.errors++;
    },
    watch(world) {
      const lines = world.aws.logs;
      const push = lines.push.bind(lines);
      // the emulator appends one line per request and trims from the front; count before trimming
      lines.push = (...added: string[]): number => {
        for (const line of added) {
          counts.aws.requests++;
          countRoute(counts.aws, line.split(" ")[1] ?? "-");
          if (line.includes("(fault)")) counts.aws.drops++;
          else if (/ (500 InternalServiceError|503 ServiceUnavailable)$/.test(line)) counts.aws.errors++;
        }
        return push(...added);
      };
      world.vault.events.on("request", ({ method, path }: { method: string; path: string }) =>
        countRoute(counts.vault, `${method} ${path.replace(ID_SEGMENT, ":id")}`),
      );
      return () => {
        counts.vault = {
          requests: world.vault.counters.requests,
          errors: world.vault.counters.faultsFailed,
          drops: world.vault.counters.faultsDropped,
          byRoute: counts.vault.byRoute,
        };
        for (const server of [counts.bank, counts.vault, counts.aws])
          server.byRoute = sortedRoutes(server.byRoute);
        return counts;
      };
    },
  };
}
