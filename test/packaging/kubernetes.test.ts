/**
 * infra/kubernetes read without a cluster: every manifest parses, is namespace-agnostic and listed in the
 * kustomization; the Deployment is highly available, non-root, probed on /healthz and /readyz, gives a
 * shutdown time above worker.shutdownTimeout, and its ConfigMap is a config the product's loader accepts
 * with exactly the environment the Deployment sets; PDB, Service and ServiceMonitor select its pods.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { parseDockerfile, REPO, repoFile } from "./parse.js";

type Json = Record<string, unknown>;
const DIR = "infra/kubernetes";
const files = readdirSync(join(REPO, DIR)).filter((f) => f.endsWith(".yaml"));
const documents = files.flatMap((file) =>
  parseAllDocuments(repoFile(`${DIR}/${file}`)).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file} parses`);
    return { file, manifest: doc.toJS() as Json };
  }),
);

const at = (value: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);

function one(kind: string): Json {
  const found = documents.filter((d) => d.manifest.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!.manifest;
}

const deployment = one("Deployment");
const pod = at(deployment, "spec", "template", "spec") as Json;
const podLabels = at(deployment, "spec", "template", "metadata", "labels") as Record<string, string>;
const container = (at(pod, "containers") as Json[])[0]!;

const selects = (selector: unknown): boolean =>
  Object.entries((selector ?? {}) as Record<string, string>).every(([k, v]) => podLabels[k] === v);

/** The config file the ConfigMap mounts, and the environment the Deployment gives the container. */
function configAndEnv(): { text: string; env: NodeJS.ProcessEnv; secretKeys: string[] } {
  const configMap = one("ConfigMap");
  const text = at(configMap, "data", "certrotor.yaml") as string;
  const env: NodeJS.ProcessEnv = {};
  const secretKeys: string[] = [];
  for (const entry of at(container, "env") as Json[]) {
    const ref = at(entry, "valueFrom", "secretKeyRef") as { name: string; key: string } | undefined;
    if (ref) {
      assert.equal(ref.name, "certrotor", `${String(entry.name)} comes from the Secret certrotor`);
      secretKeys.push(ref.key);
    }
    // a Secret's value stands in as a placeholder of the shape the config checks (a URL must be a URL)
    const placeholder =
      entry.name === "REDIS_URL"
        ? "rediss://:placeholder@redis.certrotor.svc:6379"
        : `secret-${String(entry.name)}`;
    env[entry.name as string] = (entry.value as string | undefined) ?? placeholder;
  }
  return { text, env, secretKeys };
}

describe("infra/kubernetes manifests", () => {
  it("parse, name no namespace, and are all applied by the kustomization (the Secret example excepted)", () => {
    const kustomization = one("Kustomization");
    const resources = (kustomization.resources as string[]).slice().sort();
    const expected = files.filter((f) => f !== "kustomization.yaml" && f !== "secret.example.yaml").sort();
    assert.deepEqual(resources, expected);
    for (const { file, manifest } of documents) {
      assert.equal(at(manifest, "metadata", "namespace"), undefined, `${file} is namespace-agnostic`);
    }
  });

  it("run at least two worker replicas with resource requests and limits", () => {
    assert.ok(((deployment.spec as Json).replicas as number) >= 2);
    assert.equal(at(deployment, "spec", "strategy", "rollingUpdate", "maxUnavailable"), 0);
    for (const kind of ["requests", "limits"]) {
      for (const resource of ["cpu", "memory"]) {
        assert.ok(at(container, "resources", kind, resource), `resources.${kind}.${resource}`);
      }
    }
  });

  it("run the image's non-root user with a read-only root file system and no privileges", () => {
    const user = parseDockerfile(repoFile("Dockerfile"))
      .at(-1)!
      .instructions.filter((i) => i.keyword === "USER")
      .at(-1)!.args;
    assert.equal(at(pod, "securityContext", "runAsNonRoot"), true);
    assert.equal(String(at(pod, "securityContext", "runAsUser")), user.split(":")[0]);
    assert.equal(at(container, "securityContext", "readOnlyRootFilesystem"), true);
    assert.equal(at(container, "securityContext", "allowPrivilegeEscalation"), false);
    assert.deepEqual(at(container, "securityContext", "capabilities", "drop"), ["ALL"]);
    assert.equal(at(pod, "automountServiceAccountToken"), false);
  });

  it("probe liveness on /healthz and readiness on /readyz at the worker's port", () => {
    const port = configSchema.parse({}).worker.port;
    const ports = at(container, "ports") as Array<{ name: string; containerPort: number }>;
    const named = ports.find((p) => p.containerPort === port);
    assert.ok(named, `container port ${port}`);
    const probe = (name: string) => at(container, name, "httpGet") as { path: string; port: string | number };
    assert.equal(probe("livenessProbe").path, "/healthz");
    assert.equal(probe("readinessProbe").path, "/readyz");
    for (const name of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      assert.ok([named.name, port].includes(probe(name).port), `${name} targets ${port}`);
    }
  });

  it("wait for the worker's shutdown bound before SIGKILL, with the default and the configured shutdownTimeout", () => {
    const grace = pod.terminationGracePeriodSeconds as number;
    const { text, env } = configAndEnv();
    const configured = parseConfig(text, "configmap certrotor.yaml", env).worker.shutdownTimeout;
    const defaults = configSchema.parse({}).worker.shutdownTimeout;
    for (const shutdownTimeout of [configured, defaults]) {
      // closing connections and the health server after the bound takes a few seconds more
      assert.ok(grace >= shutdownTimeout / 1000 + 10, `${grace}s covers ${shutdownTimeout / 1000}s + margin`);
    }
  });

  it("load a ConfigMap config that the product accepts with exactly the variables the Deployment sets", () => {
    const { text, env, secretKeys } = configAndEnv();
    const config = parseConfig(text, "configmap certrotor.yaml", env);
    assert.equal(config.worker.port, configSchema.parse({}).worker.port);
    const args = at(container, "args") as string[];
    assert.equal(args[0], "worker");
    const mount = (at(container, "volumeMounts") as Json[]).find((m) => m.name === "config");
    assert.equal(mount?.mountPath, args[args.indexOf("--config") + 1]);
    for (const name of Object.keys(env)) {
      assert.match(text, new RegExp(`\\$\\{${name}[}:]`), `${name} is used by the config`);
    }
    // secrets reach the config only through ${VARIABLES}: none is written in it
    assert.doesNotMatch(text, /(secretId|adminApiKey|routingKey|token):\s*(?!\$\{)\S/);
    const example = parseAllDocuments(repoFile(`${DIR}/secret.example.yaml`))[0]!.toJS() as Json;
    assert.deepEqual(Object.keys(example.stringData as Json).sort(), secretKeys.slice().sort());
  });

  it("keep a replica through voluntary disruptions and expose the metrics port to a ServiceMonitor", () => {
    const pdb = one("PodDisruptionBudget");
    assert.equal(at(pdb, "spec", "minAvailable"), 1);
    assert.ok(selects(at(pdb, "spec", "selector", "matchLabels")));

    const service = one("Service");
    assert.ok(selects(at(service, "spec", "selector")));
    const servicePort = (at(service, "spec", "ports") as Json[]).find((p) => p.name === "http-metrics");
    assert.equal(servicePort?.port, configSchema.parse({}).worker.port);

    const monitor = one("ServiceMonitor");
    const serviceLabels = at(service, "metadata", "labels") as Record<string, string>;
    for (const [key, value] of Object.entries(at(monitor, "spec", "selector", "matchLabels") as Json)) {
      assert.equal(serviceLabels[key], value);
    }
    const endpoint = (at(monitor, "spec", "endpoints") as Json[])[0]!;
    assert.deepEqual([endpoint.port, endpoint.path], ["http-metrics", "/metrics"]);
  });

  it("give the pods a ServiceAccount ready for IRSA instead of stored AWS keys", () => {
    const account = one("ServiceAccount");
    assert.equal(pod.serviceAccountName, at(account, "metadata", "name"));
    assert.match(
      String(at(account, "metadata", "annotations", "eks.amazonaws.com/role-arn")),
      /^arn:aws:iam::/,
    );
    const { env } = configAndEnv();
    assert.ok(!Object.keys(env).some((name) => /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)$/.test(name)));
  });

  it("have a NetworkPolicy on the worker pods: ingress only from Prometheus on the metrics port", () => {
    const policy = one("NetworkPolicy");
    assert.ok(selects(at(policy, "spec", "podSelector", "matchLabels")), "selects the worker pods");
    assert.deepEqual((at(policy, "spec", "policyTypes") as string[]).slice().sort(), ["Egress", "Ingress"]);
    const ingress = at(policy, "spec", "ingress") as Json[];
    assert.equal(ingress.length, 1, "one ingress rule");
    const from = ingress[0]!.from as Json[];
    assert.ok(from.length > 0, "a rule without `from` would admit every source");
    for (const peer of from) {
      assert.equal(at(peer, "podSelector", "matchLabels", "app.kubernetes.io/name"), "prometheus");
      assert.equal(peer.ipBlock, undefined);
    }
    const ports = ingress[0]!.ports as Json[];
    const metrics = (at(container, "ports") as Json[]).find(
      (p) => p.containerPort === configSchema.parse({}).worker.port,
    )!;
    assert.deepEqual(
      ports.map((p) => p.port),
      [metrics.name],
      "only the metrics port, by the name the ServiceMonitor scrapes",
    );
  });

  it("let the worker pods reach only DNS, Redis, Vault, the bank, AWS and the alert endpoints, each on its port", () => {
    const egress = at(one("NetworkPolicy"), "spec", "egress") as Json[];
    for (const rule of egress) {
      assert.ok(Array.isArray(rule.to) && rule.to.length > 0, "every egress rule names its destinations");
      assert.ok(Array.isArray(rule.ports) && rule.ports.length > 0, "every egress rule names its ports");
      for (const peer of rule.to as Json[]) {
        const cidr = at(peer, "ipBlock", "cidr") as string | undefined;
        if (cidr) assert.ok(!/^(0\.0\.0\.0|::)\/0$/.test(cidr), `${cidr} would allow the whole internet`);
        if (peer.namespaceSelector) assert.ok(peer.podSelector, "a namespace is narrowed to its pods");
      }
    }
    const allowed = (port: number, protocol = "TCP"): boolean =>
      egress.some((rule) =>
        (rule.ports as Json[]).some((p) => p.port === port && (p.protocol ?? "TCP") === protocol),
      );
    assert.ok(allowed(53, "UDP") && allowed(53, "TCP"), "DNS over UDP and TCP");
    const dns = egress.find((rule) => (rule.ports as Json[]).some((p) => p.port === 53))!;
    assert.equal(at(dns, "to", 0, "podSelector", "matchLabels", "k8s-app"), "kube-dns");
    // every endpoint the ConfigMap's config calls is on a port the policy allows
    const { text, env } = configAndEnv();
    const config = parseConfig(text, "configmap certrotor.yaml", env);
    const port = (url: string): number => {
      const parsed = new URL(url);
      return parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
    };
    const endpoints: Array<[string, number]> = [
      ["redis", Number(new URL(config.redis?.url ?? "redis://redis:6379").port || 6379)],
    ];
    for (const [name, store] of Object.entries(config.stores)) {
      if (store.kind === "vault") endpoints.push([`stores.${name}`, port(store.address)]);
      if (store.kind === "aws")
        endpoints.push([`stores.${name}`, store.endpoint ? port(store.endpoint) : 443]);
    }
    for (const [name, issuer] of Object.entries(config.issuers)) {
      if (issuer.kind === "vault-pki") endpoints.push([`issuers.${name}`, port(issuer.address)]);
    }
    for (const [name, bank] of Object.entries(config.banks)) {
      endpoints.push([`banks.${name}`, port(bank.url)]);
      if ("adminUrl" in bank && bank.adminUrl)
        endpoints.push([`banks.${name}.adminUrl`, port(bank.adminUrl)]);
    }
    for (const [name, channel] of Object.entries(config.alerts.channels)) {
      if ("url" in channel) endpoints.push([`alerts.channels.${name}`, port(channel.url)]);
    }
    assert.ok(endpoints.length >= 5);
    for (const [what, p] of endpoints) assert.ok(allowed(p), `${what} on port ${p}`);
    const allowedPorts = new Set(egress.flatMap((rule) => (rule.ports as Json[]).map((p) => p.port)));
    assert.deepEqual(
      [...allowedPorts].sort((x, y) => Number(x) - Number(y)),
      [53, 443, 6379, 8200],
      "no port beyond those",
    );
  });
});
