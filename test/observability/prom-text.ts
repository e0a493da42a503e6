/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: it throws on anything a
 * Prometheus server would refuse or a careless exporter gets wrong — bad metric or label names, bad
 * escapes, values that are not floats, a TYPE after its samples or twice, a family's samples split
 * apart, the same series twice, histograms without cumulative buckets ending in le="+Inf" = _count.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/** A float as Go's strconv.ParseFloat reads it (what the format specifies): Inf and NaN in any case. */
function parseValue(text: string, line: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value in: ${line}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `text` at `start` ("{"); returns the labels and the index after "}". */
function parseLabels(text: string, start: number, line: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (text[i] !== "}") {
    const eq = text.indexOf("=", i);
    const name = text.slice(i, eq);
    if (eq < 0 || !LABEL_NAME.test(name) || text[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
    if (name in labels) throw new Error(`label ${name} twice in: ${line}`);
    let value = "";
    for (i = eq + 2; text[i] !== '"'; i++) {
      if (i >= text.length) throw new Error(`unterminated label value in: ${line}`);
      if (text[i] === "\\") {
        const next = text[++i];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else throw new Error(`bad escape in: ${line}`);
      } else value += text[i];
    }
    labels[name] = value;
    i++;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`bad label separator in: ${line}`);
  }
  return [labels, i + 1];
}

function parseSample(line: string): Sample {
  const brace = line.indexOf("{");
  const space = line.indexOf(" ");
  let name: string;
  let labels: Record<string, string> = {};
  let rest: string;
  if (brace >= 0 && (space < 0 || brace < space)) {
    name = line.slice(0, brace);
    let end: number;
    [labels, end] = parseLabels(line, brace, line);
    rest = line.slice(end);
  } else {
    name = line.slice(0, space);
    rest = line.slice(space);
  }
  if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
  const parts = rest.trim().split(" ");
  if (!rest.startsWith(" ") || parts.length < 1 || parts.length > 2) throw new Error(`bad sample: ${line}`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`bad timestamp in: ${line}`);
  return { name, labels, value: parseValue(parts[0]!, line) };
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  for (const family of families.values()) {
    if (SUFFIXES[family.type].some((suffix) => `${family.name}${suffix}` === sample)) return family;
  }
  return undefined;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((s) => s.name.endsWith("_bucket"));
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (!count || !sum || buckets.length === 0)
      throw new Error(`${family.name}${key}: needs _bucket, _sum, _count`);
    let previous = -1;
    let previousCount = 0;
    for (const bucket of buckets) {
      const le = bucket.labels.le === undefined ? Number.NaN : parseValue(bucket.labels.le, bucket.name);
      if (!(le > previous) || bucket.value < previousCount)
        throw new Error(`${family.name}${key}: buckets not cumulative`);
      previous = le;
      previousCount = bucket.value;
    }
    if (previous !== Number.POSITIVE_INFINITY || previousCount !== count.value)
      throw new Error(`${family.name}${key}: le="+Inf" must be the last bucket and equal _count`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: Family | undefined;
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const family = families.get(name) ?? { name, type: "untyped" as MetricType, samples: [] };
      if (family.samples.length > 0 || closed.has(name))
        throw new Error(`${kind} of ${name} after its samples`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest as MetricType) || seen.has(`type:${name}`)) throw new Error(`bad TYPE: ${line}`);
        family.type = rest as MetricType;
        seen.add(`type:${name}`);
      } else {
        if (family.help !== undefined) throw new Error(`HELP twice: ${line}`);
        family.help = rest;
      }
      families.set(name, family);
      if (current && current !== family) closed.add(current.name);
      current = family;
      continue;
    }
    if (line.startsWith("#")) continue;
    const sample = parseSample(line);
    const family = familyOf(sample.name, families) ?? { name: sample.name, type: "untyped", samples: [] };
    if (!families.has(family.name)) families.set(family.name, family);
    if (closed.has(family.name)) throw new Error(`samples of ${family.name} are not together`);
    if (current && current !== family) closed.add(current.name);
    current = family;
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(id)) throw new Error(`series twice: ${line}`);
    seen.add(id);
    family.samples.push(sample);
  }
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const all = [...families.values()].flatMap((f) => f.samples);
  const matches = all.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length > 1)
    throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
