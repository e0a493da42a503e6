/**
 * infra/compose.yaml and the config it mounts, read without Docker: the services the local stack needs,
 * BullMQ's Redis settings, health checks and start order, files that exist, and a worker config that the
 * product's own loader accepts with exactly the environment the stack provides.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { parseDockerfile, REPO, repoFile } from "./parse.js";

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
}

// merge: compose files use YAML merge keys (`<<: *certrotor`)
const compose = parse(repoFile("infra/compose.yaml"), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const words = (value: string[] | string | undefined): string =>
  Array.isArray(value) ? value.join(" ") : (value ?? "");

/** Bind mounts of a service: host path (relative to infra/) → container path. */
function binds(service: Service): Map<string, string> {
  const out = new Map<string, string>();
  for (const volume of service.volumes ?? []) {
    const [host, container] = volume.split(":");
    if (host!.startsWith(".")) out.set(container!, host!);
  }
  return out;
}

/** Variables start-worker.sh exports from the files the stack generated. */
function startScriptExports(): string[] {
  const line = repoFile("infra/compose/start-worker.sh")
    .split("\n")
    .find((l) => l.startsWith("export "));
  return line ? line.slice("export ".length).trim().split(/\s+/) : [];
}

describe("infra/compose.yaml", () => {
  it("runs Redis, Vault, LocalStack, the bank sandbox and the worker", () => {
    for (const name of ["redis", "vault", "localstack", "sandbox", "worker"]) {
      assert.ok(services[name], `service ${name}`);
    }
    assert.match(words(services.vault!.command), /server -dev/);
    assert.match(services.vault!.environment!.VAULT_DEV_ROOT_TOKEN_ID!, /^\$\{VAULT_DEV_ROOT_TOKEN/);
    assert.match(services.localstack!.environment!.SERVICES!, /secretsmanager/);
  });

  it("gives Redis the noeviction policy BullMQ requires, and an append-only file", () => {
    const command = words(services.redis!.command);
    assert.match(command, /--maxmemory-policy noeviction/);
    assert.match(command, /--appendonly yes/);
  });

  it("checks the health of every long-running service and starts the worker after Redis and the seed", () => {
    const imageChecksHealth = parseDockerfile(repoFile("Dockerfile"))
      .at(-1)!
      .instructions.some((i) => i.keyword === "HEALTHCHECK" && i.args.includes("/healthz"));
    for (const [name, service] of Object.entries(services)) {
      if (name === "seed") continue;
      // a service built from the Dockerfile without its own check keeps the image's (/healthz)
      const inherited = service.healthcheck === undefined && service.build !== undefined && imageChecksHealth;
      assert.ok(
        inherited || (service.healthcheck?.test && !service.healthcheck.disable),
        `${name} has a health check`,
      );
    }
    assert.deepEqual(services.worker!.depends_on, {
      redis: { condition: "service_healthy" },
      seed: { condition: "service_completed_successfully" },
    });
    for (const dependency of ["vault", "localstack", "sandbox"]) {
      assert.equal(services.seed!.depends_on![dependency]!.condition, "service_healthy");
    }
  });

  it("runs the sandbox on all interfaces at 8443, writing its client kit where the worker reads it", () => {
    const command = words(services.sandbox!.command);
    assert.match(
      command,
      /certrotor\.js sandbox --host 0\.0\.0\.0 --port 8443 --out \/var\/lib\/certrotor\/bank/,
    );
    const config = repoFile("infra/compose/certrotor.yaml");
    assert.match(config, /caFile: \/var\/lib\/certrotor\/bank\/bank-ca\.pem/);
  });

  it("builds its certrotor services from the repository's Dockerfile with a read-only root file system", () => {
    for (const name of ["sandbox", "seed", "worker"]) {
      const service = services[name]!;
      assert.deepEqual(service.build, { context: "..", dockerfile: "Dockerfile" }, name);
      assert.equal(service.read_only, true, name);
    }
  });

  it("mounts files that exist: the worker's config, its start script, the seed and the Vault policy", () => {
    const mounts = [...binds(services.worker!), ...binds(services.seed!)];
    assert.ok(mounts.length >= 4);
    for (const [, host] of mounts) assert.ok(existsSync(join(REPO, "infra", host)), `infra/${host}`);
    const worker = binds(services.worker!);
    const command = services.worker!.command as string[];
    assert.equal(worker.get(command[command.indexOf("--config") + 1]!), "./compose/certrotor.yaml");
    assert.equal(
      binds(services.seed!).get("/etc/certrotor/vault/certrotor-policy.hcl"),
      "./vault/certrotor-policy.hcl",
    );
  });

  it("leaves no secret in the file: Vault's root token comes from the caller's environment", () => {
    const text = repoFile("infra/compose.yaml");
    assert.match(text, /VAULT_DEV_ROOT_TOKEN:\s*\$\{VAULT_DEV_ROOT_TOKEN:\?/);
    assert.equal(services.worker!.environment!.VAULT_DEV_ROOT_TOKEN, undefined, "the worker never gets root");
  });
});

describe("infra/compose/certrotor.yaml", () => {
  /** The worker's environment as compose sets it, the caller's shell exporting nothing. */
  const environment = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(services.worker!.environment ?? {})) {
      // compose's own interpolation: ${VAR:-default} takes the default, ${VAR:?message} must be exported
      env[name] = String(value).replace(
        /\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g,
        (_match, variable: string, fallback?: string) => fallback ?? `exported-${variable}`,
      );
    }
    for (const name of startScriptExports()) env[name] = `from-start-script-${name}`;
    return env;
  };

  it("is a valid config with only the variables compose and start-worker.sh provide", () => {
    assert.deepEqual(startScriptExports().sort(), ["BANK_ADMIN_API_KEY", "VAULT_ROLE_ID", "VAULT_SECRET_ID"]);
    const config = parseConfig(repoFile("infra/compose/certrotor.yaml"), "compose config", environment());
    assert.equal(config.credentials[0]?.store, "vault");
    const aws = parseConfig(repoFile("infra/compose/certrotor.yaml"), "compose config", {
      ...environment(),
      CERTROTOR_STORE: "aws",
    });
    assert.equal(aws.credentials[0]?.store, "aws", "CERTROTOR_STORE=aws keeps the credential in LocalStack");
  });

  it("points every store, bank and Redis at the compose services", () => {
    const config = parseConfig(repoFile("infra/compose/certrotor.yaml"), "compose config", environment());
    const host = (url: string | undefined) => (url ? new URL(url).hostname : undefined);
    const vault = config.stores.vault;
    const aws = config.stores.aws;
    assert.ok(vault?.kind === "vault" && aws?.kind === "aws");
    assert.equal(host(vault.address), "vault");
    assert.equal(vault.auth.method, "approle", "the worker logs in with the AppRole the seed created");
    assert.equal(host(aws.endpoint), "localstack");
    assert.equal(host(config.banks.sandbox?.url), "sandbox");
    assert.equal(host(config.redis?.url), "redis");
    assert.equal(config.redis?.prefix, "{certrotor}");
  });
});
