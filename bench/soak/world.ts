/**
 * The soak's installation: one Redis (AOF), or with SOAK_REDIS=cluster a Redis Cluster of 3 masters and 3
 * replicas, the bank sandbox, the Vault and AWS emulators, the institution
 * CA (kept in the file store, as the local-ca issuer reads it) and N credentials spread over the three
 * stores, seeded and bound the way a consumer's tooling would have left them; half of them are rotated
 * with certificates the institution CA signs (local-ca), half with ones the bank signs (bank issuer).
 * Certificates are made now, with notAfter spread so the renewal policy makes them due at staggered
 * times during the run.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import pLimit from "p-limit";
import { type SandboxHandle, type SandboxLogEntry, startSandbox } from "../../src/sandbox/server.js";
import { type Config, configSchema } from "../../src/config/schema.js";
import {
  createCsr,
  fingerprintOf,
  generateKeyPair,
  inspectCertificate,
  signClientCsr,
} from "../../src/crypto/index.js";
import { createFileStore, type FileSecretStore } from "../../src/stores/file.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { Material } from "../../src/stores/types.js";
import { startRedisCluster } from "../../src/util/redis-cluster.js";
import { startRedis } from "../../src/util/redis-server.js";
import { type AwsEmulator, startAwsEmulator } from "../../test/emulators/aws/server.js";
import { startVaultEmulator, type VaultEmulator } from "../../test/emulators/vault/server.js";
import { aCa, days } from "../../test/fixtures/pki.js";

export const STORE_NAMES = ["files", "vault", "aws"] as const;
export type SoakStoreName = (typeof STORE_NAMES)[number];

export type SoakRedisMode = "standalone" | "cluster";

/** The soak's Redis, and the one disruption the run inflicts on it. */
export interface SoakRedis {
  readonly mode: SoakRedisMode;
  /** The redis: section of the workers. */
  readonly settings: { url: string } | { cluster: string[] };
  /**
   * standalone: a restart (AOF kept); cluster: a SIGKILL of the master of the soak's slot, its replica
   * promoted, and the killed node back as a replica. `downtimeMs`: until Redis served again.
   */
  disrupt(): Promise<{ kind: "restart" | "failover"; downtimeMs: number }>;
  stop(): Promise<void>;
}

const PREFIX = "{soak}";

async function startSoakRedis(mode: SoakRedisMode): Promise<SoakRedis> {
  if (mode === "standalone") {
    const redis = await startRedis({ persistent: true });
    return {
      mode,
      settings: { url: redis.url },
      async disrupt() {
        const started = Date.now();
        await redis.restart();
        return { kind: "restart", downtimeMs: Date.now() - started };
      },
      stop: () => redis.stop(),
    };
  }
  // a node timeout of 5 s: a loaded 2-core machine must not fail nodes over by itself
  const cluster = await startRedisCluster({ nodeTimeoutMs: 5_000 });
  return {
    mode,
    settings: { cluster: cluster.addresses },
    async disrupt() {
      const { master } = await cluster.rolesOf(PREFIX);
      const { ms } = await cluster.failover(master, 60_000);
      await master.up();
      return { kind: "failover", downtimeMs: ms };
    },
    stop: () => cluster.stop(),
  };
}

export interface SoakOptions {
  /** SOAK_REDIS: one redis-server, or a Redis Cluster. */
  redis: SoakRedisMode;
  credentials: number;
  /** Due times spread over [dueFrom, dueFrom + dueSpread) ms from the end of seeding. */
  dueFromMs: number;
  dueSpreadMs: number;
  /** renewal.jitter: deterministic per credential, added to each due time. */
  jitterMs: number;
  /** Seconds between scheduled scans: a divisor of 60 (cron with seconds), or 60 and above: every minute. */
  scanEverySeconds: number;
  concurrency: number;
  jobLockDurationMs: number;
  rotationLeaseMs: number;
  attempts: number;
  /** Also write a PKCS#12 per rotation (the product default; costs most of a P-256 rotation's CPU). */
  pfx: boolean;
}

export interface SoakCredential {
  id: string;
  store: SoakStoreName;
  clientId: string;
  /** Fingerprint of the cert seeded (and bound) before the run. */
  originalFingerprint: string;
}

export interface SoakWorld {
  dir: string;
  configPath: string;
  config: Config;
  redis: SoakRedis;
  sandbox: SandboxHandle;
  vault: VaultEmulator;
  aws: AwsEmulator;
  credentials: SoakCredential[];
  stop(): Promise<void>;
}

/** The issuer of credential i: the local CA, or the bank (every other group of one credential per store). */
function issuerOf(i: number): "ca" | "bank" {
  return Math.floor(i / STORE_NAMES.length) % 2 === 0 ? "ca" : "bank";
}

/** renewBefore of the soak policy: a cert is due this long before its notAfter. */
const RENEW_BEFORE_MS = days(30);

function buildConfig(
  options: SoakOptions,
  parts: { dir: string; redis: SoakRedis; sandbox: SandboxHandle; vault: VaultEmulator; aws: AwsEmulator },
  bankCaFile: string,
  count: number,
): Config {
  const { dir, redis, sandbox, vault, aws } = parts;
  return configSchema.parse({
    stateDir: join(dir, "state"),
    stores: {
      files: { kind: "file", dir: join(dir, "store"), keyFile: join(dir, "store.key") },
      vault: { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } },
      aws: { kind: "aws", region: aws.region, endpoint: aws.url, credentials: aws.credentials },
    },
    banks: {
      sandbox: {
        kind: "banking-api",
        url: sandbox.url,
        caFile: bankCaFile,
        adminApiKey: sandbox.adminApiKey,
      },
    },
    // the bank signs for every other triple of credentials (each store gets both issuers): what it signs,
    // for which rotation, is in its own request log, which the end-of-run check compares with the journal
    issuers: {
      ca: { kind: "local-ca", store: "files", path: "ca/issuing" },
      bank: { kind: "bank", bank: "sandbox" },
    },
    credentials: Array.from({ length: count }, (_, i) => ({
      id: `cred-${i}`,
      clientId: "set-when-seeded",
      bank: "sandbox",
      store: STORE_NAMES[i % STORE_NAMES.length],
      path: `soak/cred-${i}`,
      issuer: issuerOf(i),
      keyType: "p256",
      pfx: options.pfx,
    })),
    renewal: {
      renewBefore: RENEW_BEFORE_MS,
      jitter: options.jitterMs,
      gracePeriod: 0,
      idleBeforeRetire: 0,
      attempts: options.attempts,
      backoff: 500,
      backoffMax: 4_000,
    },
    redis: { ...redis.settings, prefix: PREFIX },
    worker: {
      concurrency: options.concurrency,
      port: 0,
      shutdownTimeout: 10_000,
      jobLockDuration: options.jobLockDurationMs,
      rotationLease: options.rotationLeaseMs,
    },
    // cron with seconds; a period of a minute or more is every minute at second 0
    schedules: {
      scan: options.scanEverySeconds >= 60 ? "0 * * * * *" : `*/${options.scanEverySeconds} * * * * *`,
    },
    log: { level: "warn" },
  });
}

/** Writes one credential's material as current, the way each store's own tooling would. */
async function seedOne(
  target: { files: FileSecretStore; vault: VaultEmulator; aws: SecretsManagerClient },
  store: SoakStoreName,
  path: string,
  material: Material,
): Promise<void> {
  if (store === "files") {
    await target.files.putCurrent({ credentialId: path, path }, material);
  } else if (store === "vault") {
    const response = await fetch(`${target.vault.url}/v1/secret/data/${path}`, {
      method: "POST",
      headers: { "X-Vault-Token": target.vault.rootToken, "Content-Type": "application/json" },
      body: JSON.stringify({ data: encodeMaterial(material) }),
    });
    if (!response.ok) throw new Error(`seeding vault ${path}: ${response.status}`);
  } else {
    await target.aws.send(
      new CreateSecretCommand({ Name: path, SecretString: JSON.stringify(encodeMaterial(material)) }),
    );
  }
}

interface SeedInput {
  options: SoakOptions;
  config: Config;
  sandbox: SandboxHandle;
  vault: VaultEmulator;
  aws: AwsEmulator;
  ca: { certPem: string; keyPem: string };
}

async function seedCredentials(input: SeedInput): Promise<SoakCredential[]> {
  const { options, config, sandbox, ca } = input;
  const fileConfig = config.stores.files;
  if (fileConfig?.kind !== "file") throw new Error('soak config: store "files" is not a file store');
  const files: FileSecretStore = await createFileStore("files", fileConfig);
  const aws = new SecretsManagerClient({
    region: input.aws.region,
    endpoint: input.aws.url,
    credentials: input.aws.credentials,
  });
  const target = { files, vault: input.vault, aws };
  try {
    await seedOne(target, "files", "ca/issuing", {
      clientId: "-",
      certPem: ca.certPem,
      keyPem: ca.keyPem,
      fingerprint: fingerprintOf(ca.certPem),
      notAfter: inspectCertificate(ca.certPem).notAfter.toISOString(),
    });
    const start = Date.now();
    const limit = pLimit(8);
    return await Promise.all(
      config.credentials.map((credential, i) =>
        limit(async (): Promise<SoakCredential> => {
          const { clientId, clientSecret } = sandbox.addCredential({});
          (credential as { clientId: string }).clientId = clientId;
          const { keyPem } = await generateKeyPair("p256");
          const csrPem = await createCsr({
            keyPem,
            subject: `CN=soak-${i},OU=Payments,O=Soak Fintech Ltda,C=BR`,
            sans: [`dns:soak-${i}.test.internal`],
          });
          // due (notAfter − renewBefore) at start + dueFrom + a share of the spread
          const dueAt =
            start + options.dueFromMs + Math.floor((i / config.credentials.length) * options.dueSpreadMs);
          const notAfter = new Date(dueAt + RENEW_BEFORE_MS);
          const notBefore = new Date(notAfter.getTime() - days(90));
          const certPem = await signClientCsr({
            csrPem,
            caCertPem: ca.certPem,
            caKeyPem: ca.keyPem,
            validityMs: days(90),
            notBefore,
            notAfter,
          });
          const fingerprint = fingerprintOf(certPem);
          const store = credential.store as SoakStoreName;
          await seedOne(target, store, credential.path!, {
            clientId,
            clientSecret,
            certPem,
            chainPem: ca.certPem,
            keyPem,
            fingerprint,
            notAfter: notAfter.toISOString(),
          });
          sandbox.bindCertificate(clientId, certPem);
          return { id: credential.id, store, clientId, originalFingerprint: fingerprint };
        }),
      ),
    );
  } finally {
    aws.destroy();
    await files.close();
  }
}

/**
 * Starts every server and seeds the credentials; `stop()` undoes all of it (also called on a failed start).
 * `onBankRequest` sees every sandbox request after it was answered.
 */
export async function buildSoakWorld(
  options: SoakOptions,
  onBankRequest: (entry: SandboxLogEntry) => void,
): Promise<SoakWorld> {
  const dir = await mkdtemp(join(tmpdir(), "certrotor-soak-"));
  const stops: Array<() => Promise<unknown>> = [() => rm(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0)) await step().catch(() => undefined);
  };
  try {
    await mkdir(join(dir, "logs"));
    const redis = await startSoakRedis(options.redis);
    stops.unshift(() => redis.stop());
    const vault = await startVaultEmulator();
    stops.unshift(() => vault.stop());
    const aws = await startAwsEmulator({ retainUnlabelledMs: 0 });
    stops.unshift(() => aws.stop());
    const ca = await aCa({ keyType: "p256", subject: "CN=Soak Fintech Issuing CA,O=Soak Fintech Ltda,C=BR" });
    const sandbox = await startSandbox({ clientCaPems: [ca.certPem], onRequest: onBankRequest });
    stops.unshift(() => sandbox.stop());
    const bankCaFile = join(dir, "bank-ca.pem");
    await writeFile(bankCaFile, sandbox.serverCaPem);
    const parts = { dir, redis, sandbox, vault, aws };
    const config = buildConfig(options, parts, bankCaFile, options.credentials);
    const credentials = await seedCredentials({ options, config, sandbox, vault, aws, ca });
    const configPath = join(dir, "config.json");
    await writeFile(configPath, JSON.stringify(config));
    return { ...parts, configPath, config, credentials, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
