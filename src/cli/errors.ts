import { CertrotorError, toCertrotorError } from "../errors.js";

/** Exit codes of every command (docs/errors.md). */
export const EXIT = {
  ok: 0,
  /** scan: something is due. */
  due: 1,
  /** scan: something is broken or expired; other commands: the operation failed. */
  failed: 2,
  /** Bad input: config, arguments, unknown credential. Nothing was changed. */
  badInput: 64,
  /** A dependency (Redis, store, bank) was unreachable. */
  unavailable: 69,
  /** A bug. */
  internal: 70,
} as const;

const BAD_INPUT = new Set<string>([
  "CONFIG_INVALID",
  "CONFIG_NOT_FOUND",
  "ENV_MISSING",
  "BAD_ARGUMENT",
  "UNKNOWN_CREDENTIAL",
  "UNKNOWN_KIND",
  "BAD_CRON",
  "PEM_MALFORMED",
  "PEM_WRONG_KIND",
  "KEY_ENCRYPTED",
  "KEY_MISMATCH",
  "UNSUPPORTED_KEY_TYPE",
  "PFX_BAD_PASSPHRASE",
  "PFX_MALFORMED",
  "MATERIAL_INVALID",
  "CA_KEY_MISSING",
  "STORE_KEY_INVALID",
  "REDIS_ACCESS_DENIED",
  "REDIS_TLS_REFUSED",
  "PATH_NOT_WRITABLE",
  "IMPORT_REJECTED",
  "NO_PREVIOUS",
  "OUT_DIR_NOT_EMPTY",
  "UNKNOWN_TASK",
  "TASK_CLOSED",
  "TASK_CERT_REJECTED",
]);

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof CertrotorError)) return EXIT.internal;
  if (BAD_INPUT.has(error.code)) return EXIT.badInput;
  if (
    error.code === "REDIS_UNAVAILABLE" ||
    error.code === "LISTEN_FAILED" ||
    error.code === "NO_WORKER" ||
    error.code === "STORE_UNAVAILABLE" ||
    error.code === "BANK_UNAVAILABLE"
  )
    return EXIT.unavailable;
  if (error.code === "INTERNAL") return EXIT.internal;
  return EXIT.failed;
}

/** One line: `certrotor: CODE: message (hint: ...)`. Foreign errors show their message only (no stack). */
export function formatCliError(error: unknown): string {
  const coded = toCertrotorError(error);
  if (coded.code === "INTERNAL" && error instanceof Error) return `certrotor: INTERNAL: ${error.message}`;
  return `certrotor: ${coded.toSafeString()}`;
}
