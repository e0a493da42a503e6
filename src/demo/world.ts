/**
 * A complete certrotor installation on embedded defaults, in one folder: the bank sandbox (started in
 * process), the institution's private CA held in an encrypted file store, and one credential whose
 * certificate expires in a few days, bound at the bank. The demo runs on it; tests reuse it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type SandboxHandle, startSandbox } from "../sandbox/server.js";
import { type Config, configSchema, type KeyType } from "../config/schema.js";
import { createCa, fingerprintOf, inspectCertificate } from "../crypto/index.js";
import { createFileStore } from "../stores/file.js";
import { credentialMaterial } from "./credential.js";

const DAY_MS = 86_400_000;

const DEMO_CA_SUBJECT = "CN=Demo Fintech Issuing CA,O=Demo Fintech Ltda,C=BR";
const DEMO_CLIENT_SUBJECT = "CN=payments-api,OU=Payments,O=Demo Fintech Ltda,L=Sao Paulo,ST=SP,C=BR";

export interface DemoWorldOptions {
  dir: string;
  keyType?: KeyType;
  /** The credential's certificate expires this long from now (default 3 days). */
  expiresInMs?: number;
  tlsMaxVersion?: "TLSv1.2" | "TLSv1.3";
  now?: () => Date;
  /** Overrides merged into the renewal policy (the demo retires at once: grace 0, no idle wait). */
  renewal?: Record<string, unknown>;
  credentialId?: string;
}

export interface DemoWorld {
  config: Readonly<Config>;
  sandbox: SandboxHandle;
  credentialId: string;
  clientId: string;
  /** The CA that issued the client certs (the institution's). */
  caPem: string;
  stop(): Promise<void>;
}

export async function createDemoWorld(options: DemoWorldOptions): Promise<DemoWorld> {
  const now = options.now ?? (() => new Date());
  const keyType = options.keyType ?? "rsa2048";
  const credentialId = options.credentialId ?? "payments-api";
  await mkdir(options.dir, { recursive: true });

  const ca = await createCa({
    subject: DEMO_CA_SUBJECT,
    keyType: "p256",
    validityMs: 3650 * DAY_MS,
    now: now(),
  });
  const sandbox = await startSandbox({
    clientCaPems: [ca.certPem],
    ...(options.tlsMaxVersion ? { tlsMaxVersion: options.tlsMaxVersion } : {}),
    now,
  });
  try {
    const bankCaFile = join(options.dir, "bank-ca.pem");
    await writeFile(bankCaFile, sandbox.serverCaPem);
    const config = configSchema.parse({
      stateDir: join(options.dir, "state"),
      stores: {
        local: { kind: "file", dir: join(options.dir, "store"), keyFile: join(options.dir, "store.key") },
      },
      banks: {
        sandbox: {
          kind: "banking-api",
          url: sandbox.url,
          caFile: bankCaFile,
          adminApiKey: sandbox.adminApiKey,
        },
      },
      issuers: { "own-ca": { kind: "local-ca", store: "local", path: "ca/issuing" } },
      credentials: [
        { id: credentialId, clientId: "pending", bank: "sandbox", store: "local", issuer: "own-ca", keyType },
      ],
      renewal: {
        gracePeriod: 0,
        idleBeforeRetire: 0,
        jitter: 0,
        backoff: 200,
        backoffMax: 2_000,
        attempts: 3,
        ...options.renewal,
      },
      log: { level: "warn" },
    });

    const { clientId, clientSecret } = sandbox.addCredential({});
    const credential = config.credentials[0]!;
    (credential as { clientId: string }).clientId = clientId;

    const store = await createFileStore(
      "local",
      config.stores["local"] as Extract<Config["stores"][string], { kind: "file" }>,
    );
    try {
      const caRef = { credentialId: "issuer:own-ca", path: "ca/issuing" };
      await store.putCurrent(caRef, {
        clientId: "-",
        certPem: ca.certPem,
        keyPem: ca.keyPem,
        fingerprint: fingerprintOf(ca.certPem),
        notAfter: inspectCertificate(ca.certPem).notAfter.toISOString(),
      });
      const material = await credentialMaterial({
        ca,
        keyType,
        subject: DEMO_CLIENT_SUBJECT,
        sans: ["dns:payments-api.demo.internal"],
        notAfter: new Date(now().getTime() + (options.expiresInMs ?? 3 * DAY_MS)),
        clientId,
        clientSecret,
      });
      const certPem = material.certPem;
      await store.putCurrent({ credentialId, path: credentialId }, material);
      sandbox.bindCertificate(clientId, certPem);
    } finally {
      await store.close();
    }
    return {
      config: Object.freeze(config),
      sandbox,
      credentialId,
      clientId,
      caPem: ca.certPem,
      stop: () => sandbox.stop(),
    };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}
