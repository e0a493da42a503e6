/**
 * The seeds' hand rotation (bench/recipe/rotate.sh: openssl genpkey, req, x509 -req, pkcs12 -export and
 * the curl token call) prepared for one credential of a bench world: the institution CA, the bank's CA
 * and a token request for a sandbox credential that trusts the CA and carries the credential's subject,
 * so the script's new certificate gets a token unbound. `run()` is one script run: one rotation.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { KeyType } from "../../src/config/schema.js";
import type { TestWorld } from "../../test/fixtures/world.js";

const exec = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("./rotate.sh", import.meta.url));
/** As the local-ca issuer signs a client certificate (seed 002: clientAuth, not a CA). */
const EXTFILE = `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
`;

export interface Recipe {
  /** One rotation by the recipe; rejects when any step (or the token call) fails. */
  run(): Promise<void>;
}

export async function prepareRecipe(
  world: TestWorld,
  keyType: KeyType,
  templatePem: string,
): Promise<Recipe> {
  if (keyType !== "p256" && keyType !== "rsa2048") throw new Error(`recipe: no script for ${keyType}`);
  const work = await mkdtemp(join(world.dir, "recipe-"));
  const template = new X509Certificate(templatePem);
  const rdns = template.subject.split("\n"); // "C=BR", "O=…", …, "CN=…", in certificate order
  const { clientId, clientSecret } = world.sandbox.addCredential({
    trustCa: { subject: [...rdns].reverse().join(",") },
  });
  const files: Record<string, string> = {
    "ca.pem": world.ca.certPem,
    "ca.key": world.ca.keyPem,
    "ext.cnf": EXTFILE,
    "bank-ca.pem": world.sandbox.serverCaPem,
    "token-request.json": JSON.stringify({
      client_id: clientId,
      client_secret: clientSecret,
      grant_type: "client_credentials",
    }),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(work, name), text, { mode: 0o600 });
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    KEY_TYPE: keyType,
    SUBJECT: `/${rdns.join("/")}`,
    SAN: template.subjectAltName ?? "DNS:localhost",
    WORK: work,
    URL: world.sandbox.url,
    PFX_PASS: "bench-recipe-passphrase",
  };
  return { run: async () => void (await exec("sh", [SCRIPT], { env })) };
}
