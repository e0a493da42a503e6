/**
 * Deterministic fault injection: a seeded PRNG decides, per request, whether it is answered normally, with a
 * server error, throttled, or has its connection dropped (before or after the state changed), and whether a
 * read sees a secret as it was before its last write (stale reads). The same seed and the same request order
 * give the same faults, so a failing run can be replayed.
 */

import { mulberry32 } from "../../../src/util/seeded-random.js";

export interface FaultOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Latency added to every request, in ms. */
  latencyMs?: number;
  /** Share of requests answered 500 InternalServiceError or 503 ServiceUnavailable (half each). */
  errorRate?: number;
  /** Share of requests answered 400 ThrottlingException "Rate exceeded". */
  throttleRate?: number;
  /** Share of requests whose connection is destroyed before they are processed. */
  dropRate?: number;
  /** Share of requests processed (state changed) whose connection is then destroyed: the answer is lost. */
  dropAfterRate?: number;
  /** Only these operations (e.g. "GetSecretValue") are faulted; default all. */
  operations?: string[];
  /** Never fault more than this many requests in a row (default unlimited). */
  maxConsecutive?: number;
  /**
   * Eventual consistency: for this many ms after a write to a secret, a read of it (GetSecretValue,
   * DescribeSecret, ListSecrets, ListSecretVersionIds) may answer the state from before that write. AWS
   * documents every Secrets Manager operation as eventually consistent; writes are always checked against the
   * latest state.
   */
  staleReadMs?: number;
  /** Share of reads inside the window that see the old state (default 1: all of them). */
  staleReadRate?: number;
}

export type Fault = "none" | "error500" | "error503" | "throttle" | "drop" | "dropAfter";

export class FaultInjector {
  private options: FaultOptions = {};
  private random = mulberry32(1);
  private staleRandom = mulberry32(1);
  private consecutive = 0;

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  set(options: FaultOptions): void {
    this.options = { ...options };
    this.random = mulberry32(options.seed ?? 1);
    this.staleRandom = mulberry32((options.seed ?? 1) + 1);
    this.consecutive = 0;
  }

  get latencyMs(): number {
    return this.options.latencyMs ?? 0;
  }

  /** The stale-read window in ms (0 = reads are always current). */
  get staleReadMs(): number {
    return this.options.staleReadMs ?? 0;
  }

  /** Whether this read of a secret written `ageMs` ago sees the state before that write. */
  staleRead(ageMs: number): boolean {
    if (ageMs >= this.staleReadMs) return false;
    return this.staleRandom() < (this.options.staleReadRate ?? 1);
  }

  /** The fault for the next request of `operation`. */
  pick(operation: string): Fault {
    const { operations, maxConsecutive = Number.POSITIVE_INFINITY } = this.options;
    if (operations !== undefined && !operations.includes(operation)) return "none";
    const fault = this.draw();
    if (fault === "none" || this.consecutive >= maxConsecutive) {
      this.consecutive = 0;
      return "none";
    }
    this.consecutive++;
    return fault;
  }

  private draw(): Fault {
    const { errorRate = 0, throttleRate = 0, dropRate = 0, dropAfterRate = 0 } = this.options;
    let r = this.random();
    if (r < errorRate) return r < errorRate / 2 ? "error500" : "error503";
    r -= errorRate;
    if (r < throttleRate) return "throttle";
    r -= throttleRate;
    if (r < dropRate) return "drop";
    r -= dropRate;
    if (r < dropAfterRate) return "dropAfter";
    return "none";
  }
}
