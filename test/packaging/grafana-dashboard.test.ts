/**
 * The Grafana dashboard: valid JSON whose every panel query is valid PromQL (Prometheus's own grammar,
 * as the alert rules are checked) on metrics the worker exports (the names declared in the metrics
 * module, a histogram's _bucket/_sum/_count series, and Prometheus's `up`), and whose credential variable
 * reads a certrotor series.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parser } from "@prometheus-io/lezer-promql";
import { repoFile } from "./parse.js";

interface Target {
  expr: string;
}
interface Panel {
  title: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; definition?: string }> };
}

const dashboard = JSON.parse(repoFile("infra/grafana/certrotor-dashboard.json")) as Dashboard;
const EXPORTED = new Set(
  [...repoFile("src/observability/metrics.ts").matchAll(/name: "(certrotor_\w+)"/g)].map((m) => m[1]!),
);
const HISTOGRAMS = [
  ...repoFile("src/observability/metrics.ts").matchAll(/new Histogram\(\{\s*name: "(certrotor_\w+)"/g),
].map((m) => m[1]!);

/** A name a scrape of the worker holds. */
function exported(metric: string): boolean {
  if (metric === "up" || EXPORTED.has(metric)) return true;
  return HISTOGRAMS.some((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`].includes(metric));
}

/** Grafana's interval variables are not PromQL; a duration stands in for them before parsing. */
const asPromql = (expr: string): string => expr.replace(/\$__(rate_)?interval|\$__range/g, "5m");

function inspect(expr: string): { errors: string[]; metrics: string[] } {
  const errors: string[] = [];
  const metrics: string[] = [];
  const text = asPromql(expr);
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${text.slice(node.from, node.to + 10)}"`);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector")
        metrics.push(text.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}

const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
const targets = panels(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
);

describe("Grafana dashboard", () => {
  it("has panels with queries", () => {
    assert.equal(dashboard.uid, "certrotor");
    assert.ok(targets.length >= 10, `${targets.length} queries`);
  });

  it("queries valid PromQL on metrics certrotor exports only", () => {
    const used = new Set<string>();
    for (const { panel, expr } of targets) {
      const { errors, metrics } = inspect(expr);
      assert.deepEqual(errors, [], `${panel}: ${expr}`);
      assert.ok(metrics.length > 0, `${panel} selects a metric`);
      for (const metric of metrics) {
        assert.ok(exported(metric), `${panel}: ${metric} is not exported by src/observability/metrics.ts`);
        used.add(metric);
      }
    }
    assert.ok(used.has("certrotor_certificate_not_after_timestamp_seconds"));
    assert.ok(used.has("certrotor_rotation_step_duration_seconds_bucket"));
  });

  it("catches an unknown metric and a syntax error (the check is not vacuous)", () => {
    assert.equal(exported(inspect("certrotor_cert_expiry_seconds").metrics[0]!), false);
    assert.notDeepEqual(inspect("sum(rate(certrotor_rotations_total[$__rate_interval])").errors, []);
  });

  it("offers a credential variable read from a certrotor series", () => {
    const variable = dashboard.templating.list.find((v) => v.name === "credential");
    assert.match(
      variable?.definition ?? "",
      /label_values\(certrotor_certificate_not_after_timestamp_seconds, credential\)/,
    );
  });
});
