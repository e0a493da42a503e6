/**
 * An AWS store on a private Secrets Manager emulator, for the AWS adapter's own tests: the store, an
 * all-rights SDK client to look behind it, and a StoreHarness for the contract suite. Seeding goes through the
 * service as an operator would (CreateSecret, or PutSecretValue which moves AWSCURRENT). A second key the
 * emulator knows but allows nothing gives AWS's own AccessDeniedException.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomBytes } from "node:crypto";
import { type AwsStoreConfig, storeSchema } from "../../src/config/schema.js";
import { createAwsStore } from "../../src/stores/aws.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { Material, SecretStore } from "../../src/stores/types.js";
import type { StoreHarness } from "../contract/secret-store.contract.js";
import { type AwsEmulator, type FaultOptions, startAwsEmulator } from "../emulators/aws/server.js";
import { aClientCert, type PkiMaterial } from "../fixtures/pki.js";

export interface AwsFixtureOptions {
  faults?: FaultOptions;
  /** The store's maxAttempts (default 3, the SDK's). */
  maxAttempts?: number;
  /** The store's consistencyWindow in ms (default 200: reads are fresh unless faults.staleReadMs). */
  consistencyWindow?: number;
  logger?: (line: object) => void;
  name?: string;
}

export interface AwsFixture extends StoreHarness {
  emulator: AwsEmulator;
  config: AwsStoreConfig;
  /** Full rights, many attempts: seeds and inspects through injected faults. */
  admin: SecretsManagerClient;
  /** The key pair the store signs with. */
  keys: { accessKeyId: string; secretAccessKey: string };
  /**
   * Writes a raw SecretString as current, creating the secret when needed, as an operator would: long before
   * certrotor reads it (under stale reads, it returns once the emulator's stale window has passed).
   */
  writeCurrent(path: string, secretString: string, tags?: Record<string, string>): Promise<void>;
  /** Another store on the same emulator, config fields overridden. */
  storeWith(overrides: Record<string, unknown>, logger?: (line: object) => void): Promise<SecretStore>;
}

/** Material as the AWS store tests stage it: a real client cert and key from `ca`, optionally of a rotation. */
export async function anAwsMaterial(ca: PkiMaterial, rotationId?: string): Promise<Material> {
  const cert = await aClientCert({ ca });
  return {
    clientId: "client-app-01",
    clientSecret: `cs-${randomBytes(18).toString("base64url")}`,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    fingerprint: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
    ...(rotationId ? { rotationId } : {}),
  };
}

export const randomKeys = (): { accessKeyId: string; secretAccessKey: string } => ({
  accessKeyId: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString("base64"),
});

export function awsStoreConfig(fields: Record<string, unknown>): AwsStoreConfig {
  const parsed = storeSchema.parse({ kind: "aws", ...fields });
  if (parsed.kind !== "aws") throw new Error("expected an aws store config");
  return parsed;
}

export async function startAwsFixture(options: AwsFixtureOptions = {}): Promise<AwsFixture> {
  const name = options.name ?? "aws-test";
  const keys = randomKeys();
  const denied = randomKeys();
  const emulator = await startAwsEmulator({
    credentials: [keys, { ...denied, allow: [] }],
    retainUnlabelledMs: 0,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const base = {
    region: emulator.region,
    endpoint: emulator.url,
    maxAttempts: options.maxAttempts ?? 3,
    consistencyWindow: options.consistencyWindow ?? 200,
  };
  const config = awsStoreConfig({ ...base, credentials: keys });
  const admin = new SecretsManagerClient({
    region: emulator.region,
    endpoint: emulator.url,
    credentials: { ...keys }, // the SDK tags the object it is given ($source); keep `keys` plain
    maxAttempts: 10,
  });
  const withLogger = (logger?: (line: object) => void) => (logger ? { logger } : {});
  const store = await createAwsStore(name, config, withLogger(options.logger));

  const writeCurrent = async (
    path: string,
    secretString: string,
    tags?: Record<string, string>,
  ): Promise<void> => {
    const Tags = tags ? Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) : undefined;
    try {
      await admin.send(
        new CreateSecretCommand({ Name: path, SecretString: secretString, ...(Tags ? { Tags } : {}) }),
      );
      return await emulator.settled(path);
    } catch (error) {
      // Also the retry of a CreateSecret whose answer a fault dropped.
      if ((error as Error).name !== "ResourceExistsException") throw error;
    }
    await admin.send(new PutSecretValueCommand({ SecretId: path, SecretString: secretString }));
    if (Tags) await admin.send(new TagResourceCommand({ SecretId: path, Tags }));
    await emulator.settled(path);
  };

  return {
    store,
    emulator,
    config,
    admin,
    keys,
    writeCurrent,
    seed: (ref, material, tags) =>
      writeCurrent(ref.path, JSON.stringify(encodeMaterial(material, ref.fieldMap)), tags),
    corrupt: (ref, doc) => writeCurrent(ref.path, JSON.stringify(doc)),
    denyAll: () => createAwsStore(`${name}-denied`, awsStoreConfig({ ...base, credentials: denied })),
    storeWith: (overrides, logger) =>
      createAwsStore(
        `${name}-other`,
        awsStoreConfig({ ...base, credentials: keys, ...overrides }),
        withLogger(logger),
      ),
    cleanup: async () => {
      admin.destroy();
      await emulator.stop();
    },
    deniedMessage:
      /is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:/,
  };
}
