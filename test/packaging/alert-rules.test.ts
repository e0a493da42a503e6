/**
 * The Prometheus alerting rules: the plain rule file and the PrometheusRule hold the same groups, every
 * expression is valid PromQL (Prometheus's own grammar), uses only the metrics certrotor exports (and `up`),
 * and the alerts the runbook covers are all there, each with a severity, a summary and a runbook pointer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parser } from "@prometheus-io/lezer-promql";
import { parse } from "yaml";
import { anchors } from "../docs/markdown.js";
import { repoFile } from "./parse.js";

/** Where each rule's `runbook` annotation points: its section of the runbook. */
const RUNBOOK = "docs/operations/runbook.md";
const runbookAnchors = anchors(repoFile(RUNBOOK));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Group {
  name: string;
  rules: Rule[];
}

/** The metric names agreed with the metrics module, plus Prometheus's own `up`. */
const AGREED = [
  "certrotor_certificate_not_after_timestamp_seconds",
  "certrotor_certificate_renewal_timestamp_seconds",
  "certrotor_rotations_total",
  "certrotor_last_successful_rotation_timestamp_seconds",
  "certrotor_bound_certificates",
  "certrotor_alert_deliveries_total",
  "certrotor_queue_jobs",
];
/** What the worker really exports: the names declared in the metrics module. */
const EXPORTED = new Set(
  [...repoFile("src/observability/metrics.ts").matchAll(/name: "(certrotor_\w+)"/g)].map((m) => m[1]!),
);
const METRICS = new Set([...AGREED, "up"]);

const ALERTS = [
  "CertrotorCertificateExpired",
  "CertrotorCertificateExpiringSoon",
  "CertrotorNoBoundCertificate",
  "CertrotorRotationFailing",
  "CertrotorRotationOverdue",
  "CertrotorWorkerDown",
  "CertrotorAllWorkersDown",
  "CertrotorAlertDeliveryFailing",
  "CertrotorQueueBacklog",
  "CertrotorQueueStuck",
];

const plain = (parse(repoFile("infra/prometheus/certrotor-rules.yaml")) as { groups: Group[] }).groups;
const operator = parse(repoFile("infra/kubernetes/prometheusrule.yaml")) as {
  kind: string;
  spec: { groups: Group[] };
};
const rules = plain.flatMap((group) => group.rules);

/** Syntax errors and the metric names an expression selects. */
function inspect(expr: string): { errors: string[]; metrics: string[] } {
  const errors: string[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(node.from, node.to + 10)}"`);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") {
        metrics.push(expr.slice(node.from, node.to));
      }
    },
  });
  return { errors, metrics };
}

describe("alerting rules", () => {
  it("are the same groups in the plain rule file and the PrometheusRule", () => {
    assert.equal(operator.kind, "PrometheusRule");
    assert.deepEqual(operator.spec.groups, plain);
  });

  it("are valid PromQL on certrotor's metrics only", () => {
    for (const rule of rules) {
      const { errors, metrics } = inspect(rule.expr);
      assert.deepEqual(errors, [], `${rule.alert}: ${rule.expr}`);
      assert.ok(metrics.length > 0, `${rule.alert} selects a metric`);
      for (const metric of metrics) assert.ok(METRICS.has(metric), `${rule.alert}: unknown metric ${metric}`);
    }
  });

  it("use metric names the worker exports (src/observability/metrics.ts)", () => {
    for (const metric of AGREED)
      assert.ok(EXPORTED.has(metric), `${metric} is declared by the metrics module`);
  });

  it("catch a syntax error (the check is not vacuous)", () => {
    assert.notDeepEqual(inspect("sum by (credential) (certrotor_rotations_total[5m]").errors, []);
  });

  it("cover every runbook alert, each once, with a severity, a summary and a runbook pointer", () => {
    const names = rules.map((rule) => rule.alert);
    assert.deepEqual(names.slice().sort(), ALERTS.slice().sort());
    for (const rule of rules) {
      assert.ok(["critical", "warning"].includes(rule.labels?.severity ?? ""), `${rule.alert} severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert} summary`);
      assert.equal(rule.annotations?.runbook, `${RUNBOOK}#${rule.alert?.toLowerCase()}`);
      assert.ok(
        runbookAnchors.has(rule.alert?.toLowerCase() ?? ""),
        `${RUNBOOK} has no section ${rule.alert}`,
      );
      assert.match(rule.for ?? "", /^\d+[smh]$/, `${rule.alert} for`);
    }
  });

  it("page on expiry within the critical window only once the renewal time has passed", () => {
    const soon = rules.find((rule) => rule.alert === "CertrotorCertificateExpiringSoon")!;
    assert.match(soon.expr, /< 7 \* 86400/);
    assert.match(soon.expr, /certrotor_certificate_renewal_timestamp_seconds\) < time\(\)/);
    const down = rules.find((rule) => rule.alert === "CertrotorWorkerDown")!;
    assert.match(down.expr, /up\{job="certrotor"\}/);
  });
});
