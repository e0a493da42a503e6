import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createLogger, SECRET_FIELDS } from "../../src/observability/logger.js";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));

/** Names that look like secrets but hold none: ids, names, types, digests, public keys, error codes. */
const NOT_SECRET = new Set([
  "ClientRequestToken", // AWS idempotency token: the rotation id, also in job data
  "SecretId", // AWS secret name or ARN
  "secretsmanager",
  "secretDigest", // the sandbox keeps a digest of each client secret, never the secret
  "secretSeen", // AWS store: a flag that the secret exists
  "NextToken",
  "nextToken",
  "tokenType",
  "token_type",
  "tokens",
  "tokenStatus",
  "tokenTtlSeconds",
  "tokenClient", // certrotor/client: the bank token client (src/bank/token-client.ts), not a token
  "tokenPath", // bank config: path of the OAuth 2.0 token endpoint
  "oauth_token_path", // sandbox.json: the same path
  "publicKeyPem",
  "privateKeyEncoding",
  "signingAlgorithm",
  "isPfx",
  "Key", // AWS tag key
  "DescribeSecret",
  "UpdateSecretVersionStage",
  "Passwords",
  "pfxPassphraseEnv", // the NAME of the environment variable holding a passphrase (import, export)
  "clientSecretEnv", // the same for a client secret
  "clientSecretStdin", // a flag: read the client secret from stdin
  "secureCookies", // console config: a boolean
  "passwords", // in text ("sends passwords in clear text"), not a property holding one
]);

const LOOKS_SECRET =
  /secret|token|pass(word|phrase)|private|keypem|apikey|routingkey|pfx|authorization|cookie|^key$|jwt|signingkey/i;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, logger: createLogger({ level: "debug", destination }) };
}

describe("the logger's redaction list", () => {
  it("names every property in src/ that may hold secret material", async () => {
    const names = new Set<string>();
    for (const file of await sourceFiles(SRC)) {
      const text = await readFile(file, "utf8");
      for (const match of text.matchAll(/(?:\b([A-Za-z_][\w]*)|"([\w-]+)")\??\s*:/g)) {
        const name = match[1] ?? match[2]!;
        if (LOOKS_SECRET.test(name) && !/^[A-Z0-9_]+$/.test(name)) names.add(name);
      }
    }
    const listed = new Set<string>(SECRET_FIELDS);
    const missing = [...names].filter((name) => !listed.has(name) && !NOT_SECRET.has(name));
    assert.deepEqual(
      missing,
      [],
      "add these to SECRET_FIELDS in src/observability/logger.ts, or to NOT_SECRET here",
    );
  });

  it("censors every listed field at the top level and two levels down, and keeps the rest", () => {
    const { lines, logger } = capture();
    for (const field of SECRET_FIELDS) {
      const value = `value-of-${field}`;
      logger.info({ [field]: value, credentialId: "c1" }, "top");
      logger.info({ material: { [field]: value } }, "nested");
      logger.info({ call: { headers: { [field]: value } } }, "deeper");
    }
    const text = lines.join("");
    for (const field of SECRET_FIELDS) assert.ok(!text.includes(`value-of-${field}`), `${field} is censored`);
    assert.equal((text.match(/\[redacted\]/g) ?? []).length, SECRET_FIELDS.length * 3);
    assert.ok(text.includes('"credentialId":"c1"'));
  });

  it("keeps child bindings on every line of a rotation's logger", () => {
    const { lines, logger } = capture();
    logger
      .child({ credentialId: "cred-0" })
      .child({ jobId: "rotate-cred-0" })
      .child({ rotationId: "rot_1" })
      .child({ step: "verify" })
      .warn({ err: { code: "BANK_UNAVAILABLE" } }, "attempt failed");
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(
      [line.credentialId, line.jobId, line.rotationId, line.step, line.msg],
      ["cred-0", "rotate-cred-0", "rot_1", "verify", "attempt failed"],
    );
  });
});
