/**
 * createRuntime hands its logger to every adapter, so retries against Vault (store and PKI issuer), AWS
 * Secrets Manager and the bank show in the log of the worker or command that made the calls, at the
 * default level. Real emulators and the sandbox bank with injected faults; the log is read back as the
 * JSON lines pino wrote, and holds no secret.
 */
import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { configSchema } from "../../src/config/schema.js";
import { isCertrotorError } from "../../src/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { type SandboxHandle, startSandbox } from "../../src/sandbox/server.js";
import { type AwsEmulator, startAwsEmulator } from "../emulators/aws/server.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const WARN = 40;

describe("adapter retries in the runtime's log", () => {
  let dir: string;
  let vault: VaultEmulator;
  let aws: AwsEmulator;
  let sandbox: SandboxHandle;
  let runtime: Runtime;
  const written: string[] = [];
  const lines = (): Line[] => written.map((text) => JSON.parse(text) as Line);
  const secrets: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "certrotor-adapter-logs-"));
    vault = await startVaultEmulator();
    aws = await startAwsEmulator();
    sandbox = await startSandbox();
    const bankCa = join(dir, "bank-ca.pem");
    await writeFile(bankCa, sandbox.serverCaPem);
    const secretString = JSON.stringify({ certPem: "x", clientSecret: randomBytes(16).toString("hex") });
    const sdk = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.url,
      credentials: { ...aws.credentials },
    });
    await sdk.send(new CreateSecretCommand({ Name: "app/one", SecretString: secretString }));
    sdk.destroy();
    secrets.push(vault.rootToken, aws.credentials.secretAccessKey, sandbox.adminApiKey, secretString);
    const config = configSchema.parse({
      stateDir: join(dir, "state"),
      stores: {
        kv: { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } },
        sm: { kind: "aws", region: aws.region, endpoint: aws.url, credentials: { ...aws.credentials } },
      },
      banks: {
        bank: { kind: "banking-api", url: sandbox.url, caFile: bankCa, adminApiKey: sandbox.adminApiKey },
      },
      issuers: {
        pki: {
          kind: "vault-pki",
          address: vault.url,
          auth: { method: "token", token: vault.rootToken },
          role: "client",
        },
      },
    });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    });
    // the worker's default level
    const logger = createLogger({ level: "info", destination, pretty: false });
    runtime = await createRuntime(config, { logger });
  });
  after(async () => {
    await runtime?.close();
    await sandbox?.stop();
    await aws?.stop();
    await vault?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("logs the Vault store's retries", async () => {
    vault.setFaults({ failNext: 2 });
    await assert.rejects(
      runtime.stores.get("kv")!.readCurrent({ credentialId: "one", path: "app/absent" }),
      (error: unknown) => isCertrotorError(error, "NOT_FOUND"),
    );
    vault.setFaults({});
    const retries = lines().filter((l) => l.msg === "vault request retried");
    assert.equal(retries.length, 2);
    assert.ok(retries.every((l) => l.level === WARN && l.store === 'vault store "kv"'));
  });

  it("logs the Vault PKI issuer's retries", async () => {
    vault.setFaults({ failNext: 1, pathPrefix: "pki/" });
    assert.match(await runtime.issuers.get("pki")!.trustBundle(), /BEGIN CERTIFICATE/);
    vault.setFaults({});
    const retries = lines().filter(
      (l) => l.msg === "vault request retried" && l.store === 'vault-pki issuer "pki"',
    );
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.level, WARN);
  });

  it("logs an AWS call the SDK had to retry", async () => {
    aws.setFaults({ errorRate: 1, maxConsecutive: 1, operations: ["GetSecretValue"] });
    // read (after one retry), then refused as material: the secret holds no certificate
    await assert.rejects(
      runtime.stores.get("sm")!.readCurrent({ credentialId: "one", path: "app/one" }),
      (error: unknown) => isCertrotorError(error, "MATERIAL_INVALID"),
    );
    aws.setFaults({});
    const retried = lines().filter((l) => l.msg === "aws call retried");
    assert.ok(retried.length >= 1, JSON.stringify(lines()));
    assert.ok(retried.every((l) => l.level === WARN && l.store === "sm" && Number(l.attempts) > 1));
  });

  it("logs the bank's retries", async () => {
    const { clientId } = sandbox.addCredential({});
    sandbox.setFaults({ admin: { failNext: 1 } });
    assert.deepEqual(await requireSlots(runtime.banks.get("bank")!).listSlots(clientId), []);
    sandbox.setFaults({});
    const retries = lines().filter((l) => l.msg === "bank call failed; retrying");
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.level, WARN);
    assert.equal(retries[0]!.bank, "bank");
  });

  it("logs nothing secret", () => {
    assert.ok(written.length >= 5);
    const text = written.join("\n");
    for (const secret of secrets) assert.ok(!text.includes(secret), "a secret reached the log");
  });
});
