// One-shot set-up of the local stack (infra/compose.yaml), run once per `docker compose up` in the
// certrotor image as `node /etc/certrotor/seed.mjs`:
//   1. Vault (dev mode): the least-privilege policy from infra/vault/certrotor-policy.hcl, AppRole auth and
//      a `certrotor` role bound to it; its role_id and a fresh secret_id go to files (0600) in the shared
//      volume, where start-worker.sh reads them. The worker never sees the root token.
//   2. The sandbox bank's credential (sandbox-client, its certificate bound at the bank) written where the
//      worker's config expects it: Vault KV `secret/certrotor/sandbox-client`, or with CERTROTOR_STORE=aws
//      the LocalStack secret `certrotor/sandbox-client` tagged certrotor=managed.
// Secrets are read from files and sent to the services; nothing secret is printed.
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new Error(`seed: environment variable ${name} is not set`);
  return value;
};
const VAULT = env("VAULT_ADDR", "http://vault:8200");
const ROOT = env("VAULT_DEV_ROOT_TOKEN");
const KIT = env("SANDBOX_KIT_DIR", "/var/lib/certrotor/bank");
const OUT = env("VAULT_APPROLE_DIR", "/var/lib/certrotor/vault");
const POLICY = env("VAULT_POLICY_FILE", "/etc/certrotor/vault/certrotor-policy.hcl");
const STORE = env("CERTROTOR_STORE", "vault");
const PATH = "certrotor/sandbox-client";

async function vault(method, path, body) {
  const response = await fetch(`${VAULT}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": ROOT, "Content-Type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`seed: Vault ${method} ${path} answered ${response.status}`);
  return response.status === 204 ? {} : response.json();
}

async function setUpVault() {
  const policy = await readFile(POLICY, "utf8");
  await vault("PUT", "sys/policies/acl/certrotor", { policy });
  const auths = await vault("GET", "sys/auth");
  if (!("approle/" in (auths.data ?? auths))) await vault("POST", "sys/auth/approle", { type: "approle" });
  await vault("POST", "auth/approle/role/certrotor", {
    token_policies: ["certrotor"],
    token_ttl: "1h",
    token_max_ttl: "24h",
    secret_id_ttl: "0",
  });
  const roleId = (await vault("GET", "auth/approle/role/certrotor/role-id")).data.role_id;
  const secretId = (await vault("POST", "auth/approle/role/certrotor/secret-id", {})).data.secret_id;
  await mkdir(OUT, { recursive: true, mode: 0o700 });
  for (const [name, value] of [
    ["role-id", roleId],
    ["secret-id", secretId],
  ]) {
    await writeFile(`${OUT}/${name}`, `${value}\n`, { mode: 0o600 });
    await chmod(`${OUT}/${name}`, 0o600);
  }
}

async function material() {
  const details = JSON.parse(await readFile(`${KIT}/sandbox.json`, "utf8"));
  const certPem = await readFile(`${KIT}/client.pem`, "utf8");
  const cert = new X509Certificate(certPem);
  return {
    clientId: details.client_id,
    clientSecret: details.client_secret,
    certPem,
    chainPem: await readFile(`${KIT}/ca.pem`, "utf8"),
    keyPem: await readFile(`${KIT}/client.key`, "utf8"),
    fingerprint: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

async function seedAws(doc) {
  // The SDK the worker ships with, resolved from the application folder.
  const sdk = createRequire("/app/package.json")("@aws-sdk/client-secrets-manager");
  const client = new sdk.SecretsManagerClient({
    region: env("AWS_REGION", "us-east-1"),
    endpoint: env("AWS_ENDPOINT_URL", "http://localstack:4566"),
  });
  const SecretString = JSON.stringify(doc);
  try {
    await client.send(
      new sdk.CreateSecretCommand({ Name: PATH, SecretString, Tags: [{ Key: "certrotor", Value: "managed" }] }),
    );
  } catch (error) {
    if (error?.name !== "ResourceExistsException") throw error;
    await client.send(new sdk.PutSecretValueCommand({ SecretId: PATH, SecretString }));
  }
  client.destroy();
}

await setUpVault();
const doc = await material();
if (STORE === "aws") await seedAws(doc);
else await vault("POST", `secret/data/${PATH}`, { data: doc });
process.stdout.write(`seed: policy "certrotor", AppRole "certrotor", ${PATH} in the ${STORE} store\n`);
