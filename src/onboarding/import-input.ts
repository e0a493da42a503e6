/**
 * What `certrotor import` is given, read once at the edge: PEM files (`--cert`, `--key`, `--chain`) or a
 * PKCS#12 (`--pfx` with its passphrase from an environment variable), and the client secret from an
 * environment variable or stdin. Secrets never come from the command line (they would sit in shell
 * history and in `ps`). Every problem here is bad input (exit 64) and happens before anything is opened.
 */
import { readFile } from "node:fs/promises";
import { CertrotorError } from "../errors.js";

export interface ImportFlags {
  cert?: string;
  key?: string;
  chain?: string;
  pfx?: string;
  pfxPassphraseEnv?: string;
  clientSecretEnv?: string;
  clientSecretStdin?: boolean;
}

export type ImportSource =
  | { kind: "pem"; certPem: string; keyPem: string; chainPem?: string; files: { cert: string; key: string } }
  | { kind: "pfx"; pfx: Buffer; passphrase: string; file: string };

export interface ImportInput {
  source: ImportSource;
  clientSecret: string;
}

const HINT =
  "certrotor import <credential> (--cert FILE --key FILE [--chain FILE] | --pfx FILE --pfx-passphrase-env VAR) (--client-secret-env VAR | --client-secret-stdin)";

function badArgument(message: string): CertrotorError {
  return new CertrotorError("BAD_ARGUMENT", message, { hint: HINT });
}

export async function readInputFile(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CertrotorError("BAD_ARGUMENT", `${flag} ${path}: the file cannot be read (${code})`, {
      cause: error,
      hint: "give the path of a readable file",
    });
  }
}

function fromEnv(flag: string, name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined || value === "") {
    throw new CertrotorError("ENV_MISSING", `${flag} ${name}: the environment variable is not set or empty`, {
      hint: `export ${name} before running certrotor import (its value is never shown)`,
    });
  }
  return value;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  // a trailing newline is what `echo` and here-strings add, never part of a secret
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function readSource(flags: ImportFlags, env: NodeJS.ProcessEnv): Promise<ImportSource> {
  const pem = flags.cert !== undefined || flags.key !== undefined || flags.chain !== undefined;
  if (pem && flags.pfx !== undefined) throw badArgument("give --cert/--key or --pfx, not both");
  if (flags.pfx !== undefined) {
    if (!flags.pfxPassphraseEnv)
      throw badArgument(
        "--pfx needs --pfx-passphrase-env VAR (the passphrase is never taken on the command line)",
      );
    const passphrase = fromEnv("--pfx-passphrase-env", flags.pfxPassphraseEnv, env);
    return { kind: "pfx", pfx: await readInputFile("--pfx", flags.pfx), passphrase, file: flags.pfx };
  }
  if (flags.pfxPassphraseEnv) throw badArgument("--pfx-passphrase-env is given without --pfx");
  if (flags.cert === undefined || flags.key === undefined)
    throw badArgument("import needs the certificate and its key: --cert FILE --key FILE, or --pfx FILE");
  const certPem = (await readInputFile("--cert", flags.cert)).toString("utf8");
  const keyPem = (await readInputFile("--key", flags.key)).toString("utf8");
  const chainPem = flags.chain ? (await readInputFile("--chain", flags.chain)).toString("utf8") : undefined;
  return {
    kind: "pem",
    certPem,
    keyPem,
    ...(chainPem?.trim() ? { chainPem } : {}),
    files: { cert: flags.cert, key: flags.key },
  };
}

/** Reads and checks the flags' files and secrets; nothing is opened or written yet. */
export async function readImportInput(
  flags: ImportFlags,
  env: NodeJS.ProcessEnv = process.env,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<ImportInput> {
  if (flags.clientSecretEnv && flags.clientSecretStdin)
    throw badArgument("give --client-secret-env or --client-secret-stdin, not both");
  if (!flags.clientSecretEnv && !flags.clientSecretStdin) {
    throw badArgument(
      "import needs the credential's client secret (without it no certificate can ever be verified): --client-secret-env VAR or --client-secret-stdin",
    );
  }
  const source = await readSource(flags, env);
  const clientSecret = flags.clientSecretEnv
    ? fromEnv("--client-secret-env", flags.clientSecretEnv, env)
    : await readStdin(stdin);
  if (!clientSecret.trim()) throw badArgument("--client-secret-stdin: stdin held no client secret");
  return { source, clientSecret };
}
