/**
 * A ready-to-use sandbox set-up, as an institution would have it after onboarding (seed 002): its own
 * private CA, a client certificate that CA issued (EKU clientAuth) with its key and a PKCS#12, and a
 * credential at the bank with that certificate bound. `writeKit` puts the files a person needs into a
 * folder, secret files with mode 0600: the client material, the institution CA with its key (what a
 * local-ca issuer needs), the bank's CAs, and the connection details (`sandbox.json`, read back by
 * `certrotor sandbox portal ...`).
 */
import { randomBytes } from "node:crypto";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { OAUTH_TOKEN_PATH } from "./api-routes.js";
import {
  buildPfx,
  createCa,
  createCsr,
  generateKeyPair,
  type KeyType,
  randomPassphrase,
  signClientCsr,
} from "../crypto/index.js";
import type { SeedCredential } from "./seed.js";
import type { SandboxHandle } from "./server.js";
import { ensureWritableDirectory } from "../util/dirs.js";

const DAY = 86_400_000;

export interface SandboxKit {
  /** The institution's private CA (the bank trusts it for client certificates). */
  ca: { certPem: string; keyPem: string };
  client: { certPem: string; keyPem: string; pfx: Buffer; pfxPassphrase: string };
  credential: SeedCredential & { clientSecret: string; allowedIps: string[] };
}

export async function createSandboxKit(
  options: { keyType?: KeyType; clientId?: string; allowedIps?: string[]; now?: Date } = {},
): Promise<SandboxKit> {
  const now = options.now ?? new Date();
  const keyType = options.keyType ?? "rsa2048";
  const clientId = options.clientId ?? "sandbox-client";
  const [ca, { keyPem }] = await Promise.all([
    createCa({
      subject: "CN=Sandbox Institution CA,O=certrotor sandbox,C=BR",
      keyType,
      validityMs: 3650 * DAY,
      now,
    }),
    generateKeyPair(keyType),
  ]);
  const csrPem = await createCsr({ keyPem, subject: `CN=${clientId},O=certrotor sandbox,C=BR` });
  const certPem = await signClientCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: 375 * DAY,
    now,
  });
  const pfxPassphrase = randomPassphrase();
  const pfx = buildPfx({
    keyPem,
    certPem,
    chainPem: ca.certPem,
    passphrase: pfxPassphrase,
    friendlyName: clientId,
  });
  const allowedIps = options.allowedIps ?? ["127.0.0.0/8", "::1"];
  return {
    ca,
    client: { certPem, keyPem, pfx, pfxPassphrase },
    credential: {
      clientId,
      clientSecret: randomBytes(32).toString("base64url"),
      allowedIps,
      certificates: [certPem],
    },
  };
}

/** The file beside sandbox.json holding the CA of the sandbox's server certificate. */
export const SERVER_CA_FILE = "bank-ca.pem";

/** sandbox.json: how to reach the sandbox (secret: mode 0600). */
export interface SandboxDetails {
  url: string;
  client_id: string;
  client_secret: string;
  admin_api_key: string;
  /** Base URL of the portal routes. */
  portal_url: string;
  portal_api_key: string;
  /** Path of the standard OAuth 2.0 token endpoint (kind oauth2-mtls). */
  oauth_token_path: string;
  /** The server CA to pin, relative to sandbox.json. */
  server_ca_file: string;
}

export interface KitFile {
  name: string;
  secret: boolean;
  summary: string;
}

/** Writes the kit and the sandbox's connection details into `dir`; returns what was written. */
export async function writeKit(dir: string, kit: SandboxKit, sandbox: SandboxHandle): Promise<KitFile[]> {
  await ensureWritableDirectory("--out", dir, 0o755);
  const details: SandboxDetails = {
    url: sandbox.url,
    client_id: kit.credential.clientId,
    client_secret: kit.credential.clientSecret,
    admin_api_key: sandbox.adminApiKey,
    portal_url: sandbox.portalUrl,
    portal_api_key: sandbox.portalApiKey,
    oauth_token_path: OAUTH_TOKEN_PATH,
    server_ca_file: SERVER_CA_FILE,
  };
  const tokenRequest = {
    client_id: kit.credential.clientId,
    client_secret: kit.credential.clientSecret,
    grant_type: "client_credentials",
  };
  const files: Array<KitFile & { content: string | Buffer }> = [
    {
      name: SERVER_CA_FILE,
      secret: false,
      summary: "CA of the sandbox's server certificate (curl --cacert)",
      content: sandbox.serverCaPem,
    },
    {
      name: "bank-signing-ca.pem",
      secret: false,
      summary: "the bank's own CA, which signs CSRs (admin API, portal)",
      content: sandbox.bankCaPem,
    },
    {
      name: "ca.pem",
      secret: false,
      summary: "institution CA that issued the client certificate",
      content: kit.ca.certPem,
    },
    {
      name: "ca.key",
      secret: true,
      summary: "the institution CA's private key (a local-ca issuer)",
      content: kit.ca.keyPem,
    },
    {
      name: "client.pem",
      secret: false,
      summary: "client certificate bound to the credential",
      content: kit.client.certPem,
    },
    { name: "client.key", secret: true, summary: "its private key (PKCS#8)", content: kit.client.keyPem },
    {
      name: "client.pfx",
      secret: true,
      summary: "key + certificate + CA as PKCS#12",
      content: kit.client.pfx,
    },
    {
      name: "client.pfx.pass",
      secret: true,
      summary: "the PKCS#12 passphrase",
      content: `${kit.client.pfxPassphrase}\n`,
    },
    {
      name: "sandbox.json",
      secret: true,
      summary: "url, client_id, client_secret, admin and portal keys",
      content: `${JSON.stringify(details, null, 2)}\n`,
    },
    {
      name: "token-request.json",
      secret: true,
      summary: "token request body (curl -d @token-request.json)",
      content: `${JSON.stringify(tokenRequest)}\n`,
    },
  ];
  for (const file of files) {
    const path = join(dir, file.name);
    await writeFile(path, file.content, { mode: file.secret ? 0o600 : 0o644 });
    // writeFile's mode applies only when it creates the file; an older file keeps its mode otherwise.
    await chmod(path, file.secret ? 0o600 : 0o644);
  }
  return files.map(({ name, secret, summary }) => ({ name, secret, summary }));
}
