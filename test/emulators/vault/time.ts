/**
 * Vault's clock formats. KV v2 prints timestamps with Go's time.RFC3339Nano (nanoseconds, trailing zeros
 * trimmed, UTC "Z"); token and PKI endpoints use whole epoch seconds. JavaScript only has milliseconds, so
 * the sub-millisecond digits come from the monotonic clock anchored to Date.now() at load.
 */
const anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Nanoseconds since the epoch, real clock. */
export function nowNs(): bigint {
  return anchorNs + process.hrtime.bigint();
}

/** `2018-03-22T02:24:06.945319214Z`, as Go's time.RFC3339Nano prints it (trailing zeros trimmed). */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const seconds = new Date(ms).toISOString().slice(0, 19);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return fraction ? `${seconds}.${fraction}Z` : `${seconds}Z`;
}

/** Whole seconds since the epoch. */
export function epochSeconds(ms = Date.now()): number {
  return Math.floor(ms / 1000);
}

/** A Go duration string as Vault prints seconds-valued fields (`0s`, `1h0m0s`, `768h0m0s`). */
export function goDuration(totalSeconds: number): string {
  if (totalSeconds === 0) return "0s";
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * Seconds from a Vault duration parameter: an integer (seconds) or a string such as "90", "90s", "15m",
 * "1h", "1h30m". Undefined when it cannot be parsed.
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const match = /^(\d+)([smhd])/.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}
