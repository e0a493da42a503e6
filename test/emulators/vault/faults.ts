/**
 * Fault injection per request, deterministic: "the next n requests" counters, or shares drawn from a
 * PRNG seeded by the options (mulberry32), so the same options fail the same requests in the same run.
 * Faults: added latency, 5xx answers with Vault's error bodies, connections destroyed without an answer.
 */

import { mulberry32 } from "../../../src/util/seeded-random.js";

export interface FaultOptions {
  /** Milliseconds added before each affected request is handled. */
  latencyMs?: number;
  /** The next `failNext` affected requests answer a 5xx. */
  failNext?: number;
  /** Share (0..1) of affected requests that answer a 5xx. */
  failRate?: number;
  /** Statuses used in turn for failures (default [500, 503]). */
  failStatuses?: Array<429 | 500 | 502 | 503 | 504>;
  /** The next `dropNext` affected requests have their connection destroyed without an answer. */
  dropNext?: number;
  /** Share (0..1) of affected requests whose connection is destroyed. */
  dropRate?: number;
  /** The next `dropAfterNext` affected requests are carried out, then the answer is lost (socket destroyed). */
  dropAfterNext?: number;
  /** Share (0..1) of affected requests carried out whose answer is lost. */
  dropAfterRate?: number;
  /** PRNG seed for the shares (default 1). */
  seed?: number;
  /** Only paths (after `/v1/`, namespace included) starting with this; default every path but sys/health. */
  pathPrefix?: string;
}

export type FaultDecision =
  | { kind: "none" }
  | { kind: "fail"; status: number; body: unknown }
  | { kind: "drop" }
  | { kind: "drop-after" };

/** What Vault answers with each status (rate-limit quota, internal error, sealed/standby, proxies). */
const BODIES: Record<number, string> = {
  429: "rate limit quota exceeded",
  500: "1 error occurred:\n\t* internal error\n\n",
  502: "bad gateway",
  503: "Vault is sealed",
  504: "context deadline exceeded",
};

export class FaultInjector {
  private spec: FaultOptions = {};
  private failLeft = 0;
  private dropLeft = 0;
  private dropAfterLeft = 0;
  private failures = 0;
  private random: () => number = mulberry32(1);
  readonly counters = { failed: 0, dropped: 0 };

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /** Replaces the faults (counters and PRNG restart). `{}` turns them off. */
  set(options: FaultOptions): void {
    this.spec = { ...options };
    this.failLeft = options.failNext ?? 0;
    this.dropLeft = options.dropNext ?? 0;
    this.dropAfterLeft = options.dropAfterNext ?? 0;
    this.failures = 0;
    this.random = mulberry32(options.seed ?? 1);
  }

  applies(path: string): boolean {
    if (this.spec.pathPrefix !== undefined) return path.startsWith(this.spec.pathPrefix);
    return !path.startsWith("sys/health");
  }

  latencyMs(path: string): number {
    return this.applies(path) ? (this.spec.latencyMs ?? 0) : 0;
  }

  /** What to do with the next request to `path` (consumes counters and PRNG draws). */
  next(path: string): FaultDecision {
    if (!this.applies(path)) return { kind: "none" };
    if (this.dropLeft > 0) {
      this.dropLeft--;
      return this.drop();
    }
    if (this.failLeft > 0) {
      this.failLeft--;
      return this.fail();
    }
    if (this.dropAfterLeft > 0) {
      this.dropAfterLeft--;
      return this.dropAfter();
    }
    if (this.spec.dropRate && this.random() < this.spec.dropRate) return this.drop();
    if (this.spec.failRate && this.random() < this.spec.failRate) return this.fail();
    if (this.spec.dropAfterRate && this.random() < this.spec.dropAfterRate) return this.dropAfter();
    return { kind: "none" };
  }

  private drop(): FaultDecision {
    this.counters.dropped++;
    return { kind: "drop" };
  }

  private dropAfter(): FaultDecision {
    this.counters.dropped++;
    return { kind: "drop-after" };
  }

  private fail(): FaultDecision {
    const statuses = this.spec.failStatuses?.length ? this.spec.failStatuses : [500, 503];
    const status = statuses[this.failures++ % statuses.length]!;
    this.counters.failed++;
    return { kind: "fail", status, body: { errors: [BODIES[status] ?? "internal error"] } };
  }
}
