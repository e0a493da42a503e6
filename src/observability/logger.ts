/**
 * The logger: built once, children per job ({ jobId, credentialId, rotationId, step }). Redaction is set
 * at construction, so a secret that slips into a log object is censored before it is written.
 * JSON lines by default; pretty lines when writing to a TTY.
 */
import { createRequire } from "node:module";
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * The logger createRuntime hands every adapter (stores, banks, issuers): the runtime's own, so a retry
 * against the bank, Vault or AWS shows in the log of the worker or command that made the call. A pino
 * Logger fits. Objects carry no secrets (redaction still applies).
 */
export interface AdapterLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * Every field name that may hold secret material, at any of the first nesting levels. A test scans src/
 * for property names that look secret and fails until each is listed here (or shown not to be one).
 */
export const SECRET_FIELDS = [
  "key",
  "keyPem",
  "caKeyPem",
  "serverKeyPem",
  "signingKey",
  "privateKey",
  "privateKeyPem",
  "pfx",
  "pfxBase64",
  "pfxPassphrase",
  "pfxKeys",
  "passphrase",
  "password",
  "sentinelPassword",
  "secrets",
  "clientSecret",
  "client_secret",
  "secret",
  "secretId",
  "secret_id",
  "secretAccessKey",
  "sessionToken",
  "secretString",
  "SecretString",
  "SecretBinary",
  "token",
  "client_token",
  "accessToken",
  "access_token",
  "authorization",
  "Authorization",
  "x-vault-token",
  "X-Vault-Token",
  "adminApiKey",
  "portalApiKey",
  "apiKey",
  "routingKey",
  "passwordHash",
  "x-csrf-token",
  "csrfToken",
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const field of SECRET_FIELDS) {
    const safe = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
    const join = (prefix: string): string =>
      safe.startsWith("[") ? `${prefix}${safe}` : `${prefix}.${safe}`;
    paths.push(safe.startsWith("[") ? safe.slice(2, -2) : safe, join("*"), join("*.*"));
  }
  return paths;
}

export interface LoggerOptions {
  level?: string;
  /** Where lines go (tests pass a stream to read them back). Default: file descriptor `fd`. */
  destination?: DestinationStream;
  /** 1 = stdout (the worker), 2 = stderr (CLI commands, whose stdout carries results). Default 1. */
  fd?: 1 | 2;
  /** Pretty lines instead of JSON; default: when the target fd is a TTY and no destination is given. */
  pretty?: boolean;
  base?: Record<string, unknown>;
}

/** pino-pretty is a dev dependency: a production install logs JSON even on a terminal. */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("pino-pretty");
    return true;
  } catch {
    return false;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 1;
  const tty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  const pretty = options.destination === undefined && (options.pretty ?? tty === true) && prettyInstalled();
  const config = {
    level: options.level ?? "info",
    base: { service: "certrotor", ...options.base },
    redact: { paths: redactPaths(), censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({
      ...config,
      transport: {
        target: "pino-pretty",
        options: { destination: fd, colorize: true, translateTime: "SYS:HH:MM:ss" },
      },
    });
  }
  return pino(config, options.destination ?? pino.destination({ fd, sync: true }));
}
