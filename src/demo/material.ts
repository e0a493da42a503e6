/**
 * The material half of the demo: a private CA (the institution's own, seed 002), a client key, its CSR,
 * the CA-signed client certificate and a PKCS#12 — all with certrotor's crypto core, written to a folder.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { KeyType } from "../config/schema.js";
import {
  buildPfx,
  createCa,
  createCsr,
  generateKeyPair,
  inspectCertificate,
  randomPassphrase,
  signClientCsr,
} from "../crypto/index.js";

export interface DemoFile {
  name: string;
  summary: string;
}

const DAY_MS = 86_400_000;

export const DEMO_CA_SUBJECT = "CN=Demo Fintech Issuing CA,O=Demo Fintech Ltda,C=BR";
export const DEMO_CLIENT_SUBJECT = "CN=payments-api,OU=Payments,O=Demo Fintech Ltda,L=Sao Paulo,ST=SP,C=BR";

async function writeSecret(path: string, data: string | Buffer): Promise<void> {
  await writeFile(path, data, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function writeDemoMaterial(
  dir: string,
  keyType: KeyType,
  now = new Date(),
): Promise<DemoFile[]> {
  await mkdir(dir, { recursive: true });
  const ca = await createCa({ subject: DEMO_CA_SUBJECT, keyType, validityMs: 3650 * DAY_MS, now });
  const { keyPem } = await generateKeyPair(keyType);
  const csrPem = await createCsr({
    keyPem,
    subject: DEMO_CLIENT_SUBJECT,
    sans: ["dns:payments-api.demo.internal"],
  });
  const certPem = await signClientCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: 90 * DAY_MS,
    now,
  });
  const passphrase = randomPassphrase();
  const pfx = buildPfx({ keyPem, certPem, chainPem: ca.certPem, passphrase, friendlyName: "payments-api" });

  await writeFile(join(dir, "ca.pem"), ca.certPem);
  await writeSecret(join(dir, "client.key"), keyPem);
  await writeFile(join(dir, "client.csr"), csrPem);
  await writeFile(join(dir, "client.pem"), certPem);
  await writeSecret(join(dir, "client.pfx"), pfx);
  await writeSecret(join(dir, "client.pfx.pass"), `${passphrase}\n`);

  const caInfo = inspectCertificate(ca.certPem);
  const client = inspectCertificate(certPem);
  return [
    {
      name: "ca.pem",
      summary: `private CA "${caInfo.subject}", ${caInfo.keyType}, valid to ${caInfo.notAfter.toISOString()}`,
    },
    { name: "client.key", summary: `${keyType} private key, PKCS#8 PEM (mode 0600)` },
    { name: "client.csr", summary: `CSR for "${DEMO_CLIENT_SUBJECT}" signed by client.key` },
    {
      name: "client.pem",
      summary: `client cert sha256 ${client.fingerprint.slice(0, 16)}…, EKU ${client.extKeyUsage.join(",")}, valid to ${client.notAfter.toISOString()}`,
    },
    {
      name: "client.pfx",
      summary: `PKCS#12 (AES-256-CBC, PBKDF2-HMAC-SHA256) with key, cert and CA, ${pfx.length} bytes`,
    },
    { name: "client.pfx.pass", summary: "passphrase of client.pfx (mode 0600)" },
  ];
}
