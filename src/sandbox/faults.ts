/**
 * Fault injection per endpoint group, for tests and demos: added latency, 5xx answers and dropped
 * connections. Deterministic: either "the next n requests" (counters) or a share drawn from a PRNG
 * seeded per endpoint (mulberry32), so a run with the same options fails the same requests.
 */

import { mulberry32 } from "../util/seeded-random.js";

export type FaultEndpoint = "token" | "balance" | "admin" | "portal";

export interface EndpointFaults {
  /** Milliseconds added before the request is handled. */
  latencyMs?: number;
  /** The next `failNext` requests answer `failStatus`. */
  failNext?: number;
  /** Share (0..1) of requests that answer `failStatus`, drawn from the seeded PRNG. */
  failRate?: number;
  /** Default 503. */
  failStatus?: 500 | 502 | 503 | 504;
  /** The next `dropNext` requests have their connection destroyed without an answer. */
  dropNext?: number;
  /** Share (0..1) of requests whose connection is destroyed, drawn from the seeded PRNG. */
  dropRate?: number;
  /** PRNG seed for the rates (default 1). */
  seed?: number;
}

export type FaultOptions = Partial<Record<FaultEndpoint, EndpointFaults>>;

export type FaultDecision = { kind: "none" } | { kind: "fail"; status: number } | { kind: "drop" };

interface Live {
  spec: EndpointFaults;
  failLeft: number;
  dropLeft: number;
  random: () => number;
}

export class FaultInjector {
  private live = new Map<FaultEndpoint, Live>();

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /** Replaces every endpoint's faults (counters restart). `{}` turns faults off. */
  set(options: FaultOptions): void {
    this.live = new Map();
    for (const [endpoint, spec] of Object.entries(options) as Array<
      [FaultEndpoint, EndpointFaults | undefined]
    >) {
      if (!spec) continue;
      this.live.set(endpoint, {
        spec,
        failLeft: spec.failNext ?? 0,
        dropLeft: spec.dropNext ?? 0,
        random: mulberry32(spec.seed ?? 1),
      });
    }
  }

  latencyMs(endpoint: FaultEndpoint): number {
    return this.live.get(endpoint)?.spec.latencyMs ?? 0;
  }

  /** What to do with the next request to `endpoint` (consumes counters and PRNG draws). */
  next(endpoint: FaultEndpoint): FaultDecision {
    const live = this.live.get(endpoint);
    if (!live) return { kind: "none" };
    const status = live.spec.failStatus ?? 503;
    if (live.dropLeft > 0) {
      live.dropLeft--;
      return { kind: "drop" };
    }
    if (live.failLeft > 0) {
      live.failLeft--;
      return { kind: "fail", status };
    }
    if (live.spec.dropRate && live.random() < live.spec.dropRate) return { kind: "drop" };
    if (live.spec.failRate && live.random() < live.spec.failRate) return { kind: "fail", status };
    return { kind: "none" };
  }
}
