/** Durations in config are strings like "90s", "15m", "6h", "30d", "2w" (or a number of milliseconds). */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}

/** The shortest readable form: 90000 → "1m30s" is not attempted; picks the largest whole unit. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  for (const unit of ["w", "d", "h", "m", "s"] as const) {
    const size = UNIT_MS[unit]!;
    if (abs >= size && abs % size === 0) return `${sign}${abs / size}${unit}`;
  }
  if (abs >= 86_400_000) return `${sign}${(abs / 86_400_000).toFixed(1)}d`;
  if (abs >= 3_600_000) return `${sign}${(abs / 3_600_000).toFixed(1)}h`;
  if (abs >= 60_000) return `${sign}${(abs / 60_000).toFixed(1)}m`;
  if (abs >= 1_000) return `${sign}${(abs / 1_000).toFixed(1)}s`;
  return `${sign}${abs}ms`;
}
