/**
 * Where the file store's 32-byte AES key comes from: the environment variable named by `keyEnv`, else
 * the key file (`keyFile`, default `<dir>/.key`), created with a random key and mode 0600 when absent.
 * Failures are STORE_KEY_INVALID and name the variable or file, never the key.
 */
import { createHmac, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CertrotorError } from "../errors.js";
import { makeDirectory } from "../util/dirs.js";

export interface StoreKey {
  readonly key: Buffer;
  /** Non-secret identifier of the key (HMAC of a fixed label), stored in every file to tell "wrong key" from tampering. */
  readonly id: string;
  /** Where the key came from, for messages: `env FOO` or `file /path`. */
  readonly source: string;
}

export interface KeySettings {
  dir: string;
  keyEnv?: string | undefined;
  keyFile?: string | undefined;
}

/** The key file used when neither keyEnv nor keyFile is configured. */
function defaultKeyFile(dir: string): string {
  return join(dir, ".key");
}

function keyInvalid(message: string, details: Record<string, string>, hint?: string): CertrotorError {
  return new CertrotorError("STORE_KEY_INVALID", message, { details, ...(hint ? { hint } : {}) });
}

const KEY_HINT = "the key must be 32 random bytes, written as base64 or as 64 hex characters";

/** 32 key bytes from base64 or 64 hex characters; undefined when the text is neither. */
function parseKeyText(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed, "base64");
  return bytes.length === 32 ? bytes : undefined;
}

export function keyId(key: Buffer): string {
  return createHmac("sha256", key).update("certrotor file-store key id v1").digest("hex").slice(0, 16);
}

function fromEnv(name: string, env: NodeJS.ProcessEnv): StoreKey {
  const value = env[name];
  if (value === undefined || value === "") {
    throw keyInvalid(`file-store key variable ${name} is not set`, { keyEnv: name }, KEY_HINT);
  }
  const key = parseKeyText(value);
  if (!key)
    throw keyInvalid(
      `file-store key variable ${name} does not hold a 32-byte key`,
      { keyEnv: name },
      KEY_HINT,
    );
  return { key, id: keyId(key), source: `env ${name}` };
}

/** True when the store directory already holds encrypted credentials (so a new key would orphan them). */
export type HasDocuments = () => Promise<boolean>;

async function createKeyFile(file: string, hasDocuments: HasDocuments): Promise<void> {
  const exists = await stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  if (exists) return;
  if (await hasDocuments()) {
    throw keyInvalid(
      `file-store key file ${file} is missing but the store already holds encrypted credentials`,
      { keyFile: file },
      "restore the key file (or set keyEnv/keyFile to where the key is); a new key could not read them",
    );
  }
  await makeDirectory(dirname(file), 0o700);
  // O_EXCL: when two processes start at once, one creates the key and the other reads it.
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return undefined;
      throw error;
    },
  );
  if (!handle) return;
  try {
    await handle.writeFile(`${randomBytes(32).toString("base64")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fromFile(file: string, hasDocuments: HasDocuments): Promise<StoreKey> {
  try {
    await createKeyFile(file, hasDocuments);
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      throw keyInvalid(
        `file-store key file ${file} has mode ${mode}: it must not be readable by group or others`,
        { keyFile: file, mode },
        `run: chmod 600 ${file}`,
      );
    }
    const key = parseKeyText(await readFile(file, "utf8"));
    if (!key)
      throw keyInvalid(
        `file-store key file ${file} does not hold a 32-byte key`,
        { keyFile: file },
        KEY_HINT,
      );
    return { key, id: keyId(key), source: `file ${file}` };
  } catch (error) {
    if (error instanceof CertrotorError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new CertrotorError(
      "STORE_KEY_INVALID",
      `file-store key file ${file} cannot be read or created (${code})`,
      {
        cause: error,
        details: { keyFile: file },
      },
    );
  }
}

/** The store key. keyEnv wins over keyFile when both are configured. */
export async function loadStoreKey(
  settings: KeySettings,
  env: NodeJS.ProcessEnv,
  hasDocuments: HasDocuments,
): Promise<StoreKey> {
  if (settings.keyEnv) return fromEnv(settings.keyEnv, env);
  return fromFile(settings.keyFile ?? defaultKeyFile(settings.dir), hasDocuments);
}
