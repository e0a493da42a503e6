/**
 * The table of every metric a worker exports, read from its registry (src/observability/metrics.ts): a
 * registry built without default metrics is fed one sample of each series, so that the exposition text
 * names each metric's type, help and labels. For docs/metrics.md.
 */
import { createMetrics } from "../../src/observability/metrics.js";
import { cell } from "./blocks.js";

interface MetricRow {
  name: string;
  type: string;
  help: string;
  labels: Set<string>;
  sampled: boolean;
}

/** Exposition text of a registry that has seen one of everything it records. */
async function exercised(): Promise<string> {
  const metrics = createMetrics({ defaultMetrics: false, now: () => 2_000 });
  metrics.recordRotation("credential", "failed", "SLOTS_FULL", new Date(0));
  metrics.recordRotation("credential", "succeeded", "", new Date(0));
  metrics.recordStepDuration("plan", 0.01);
  metrics.recordCertificate("credential", new Date(0));
  metrics.recordScan([
    {
      credentialId: "credential",
      notAfter: new Date(0).toISOString(),
      dueAt: new Date(0).toISOString(),
      boundSlots: 1,
    },
  ]);
  metrics.recordAlertDelivery("channel", "delivered");
  metrics.watchQueues([{ name: "rotate", getJobCounts: async () => ({ waiting: 0 }) }]);
  metrics.watchTasks(async () => [{ createdAt: new Date(1_000).toISOString() }]);
  return metrics.text();
}

/** Histogram and summary samples carry a suffix and `le`/`quantile`: not labels of the metric. */
function baseName(sample: string, known: ReadonlyMap<string, MetricRow>): string | undefined {
  if (known.has(sample)) return sample;
  const stripped = sample.replace(/_(bucket|sum|count)$/, "");
  return known.has(stripped) ? stripped : undefined;
}

export async function metricRows(): Promise<MetricRow[]> {
  const rows = new Map<string, MetricRow>();
  const text = await exercised();
  for (const line of text.split("\n")) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help)
      rows.set(help[1]!, { name: help[1]!, type: "", help: help[2]!, labels: new Set(), sampled: false });
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type && rows.has(type[1]!)) rows.get(type[1]!)!.type = type[2]!;
  }
  for (const line of text.split("\n")) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const name = baseName(sample[1]!, rows);
    if (!name) continue;
    rows.get(name)!.sampled = true;
    if (!sample[2]) continue;
    for (const pair of sample[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
      if (pair[1] !== "le" && pair[1] !== "quantile") rows.get(name)!.labels.add(pair[1]!);
    }
  }
  const unsampled = [...rows.values()].filter((row) => !row.sampled).map((row) => row.name);
  if (unsampled.length > 0) {
    throw new Error(
      `metrics without a sample, so their labels are unknown: ${unsampled.join(", ")} (record one in scripts/docs/metrics-table.ts exercised())`,
    );
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export async function metricsTable(): Promise<string> {
  const lines = ["| metric | type | labels | help |", "|---|---|---|---|"];
  for (const row of await metricRows()) {
    const labels = [...row.labels].map((label) => `\`${label}\``).join(", ") || "—";
    lines.push(`| \`${row.name}\` | ${row.type} | ${labels} | ${cell(row.help)} |`);
  }
  return lines.join("\n");
}
