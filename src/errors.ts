/**
 * The one registry of failure kinds. Every error certrotor raises on purpose is a CertrotorError with a
 * stable `code` from this table. Callers branch on `code` (never on message text); the queue uses
 * `retryable` to decide between another attempt and an immediate failure.
 *
 * `message` is the safe text: it may reach alerts, job `failedReason` and the CLI. It must never carry
 * secret material. The underlying cause (which may be noisy) is kept apart in `cause`, for logs.
 */

export interface ErrorSpec {
  /** Can a later attempt of the same operation succeed without a human changing something? */
  readonly retryable: boolean;
  /** One line for the error table of docs/errors.md (npm run docs:gen). */
  readonly summary: string;
}

export const ERROR_CODES = {
  // configuration and command line
  CONFIG_INVALID: { retryable: false, summary: "The config file does not match the schema." },
  CONFIG_NOT_FOUND: { retryable: false, summary: "The config file cannot be read." },
  ENV_MISSING: { retryable: false, summary: "An environment variable the config references is not set." },
  BAD_ARGUMENT: { retryable: false, summary: "A command-line argument is missing or malformed." },
  UNKNOWN_CREDENTIAL: {
    retryable: false,
    summary: "No credential with that id is configured or discovered.",
  },
  UNKNOWN_KIND: { retryable: false, summary: "An adapter kind is not one certrotor knows." },
  NOT_SUPPORTED: { retryable: false, summary: "The adapter does not offer this optional capability." },
  BAD_CRON: { retryable: false, summary: "A cron pattern cannot be parsed." },

  // crypto and certificate material
  PEM_MALFORMED: { retryable: false, summary: "Text that should be PEM is not valid PEM/DER." },
  PEM_WRONG_KIND: {
    retryable: false,
    summary: "A PEM block of another kind than expected (a key where a cert is expected).",
  },
  KEY_ENCRYPTED: { retryable: false, summary: "The private key is encrypted and no passphrase was given." },
  KEY_BAD_PASSPHRASE: {
    retryable: false,
    summary: "The encrypted private key cannot be decrypted with the passphrase given.",
  },
  KEY_MISMATCH: { retryable: false, summary: "The private key does not belong to the certificate." },
  UNSUPPORTED_KEY_TYPE: {
    retryable: false,
    summary: "The key type is not one of rsa2048, rsa3072, rsa4096, p256, p384.",
  },
  PFX_BAD_PASSPHRASE: { retryable: false, summary: "The PKCS#12 passphrase is wrong." },
  PFX_MALFORMED: { retryable: false, summary: "The PKCS#12 bytes cannot be parsed." },
  CSR_INVALID: { retryable: false, summary: "The CSR cannot be parsed or its signature does not verify." },
  CHAIN_INVALID: { retryable: false, summary: "The certificate does not chain to the trusted CA bundle." },
  CERT_INVALID: {
    retryable: false,
    summary: "A certificate fails a profile check (EKU, validity, key usage).",
  },
  CA_KEY_MISSING: { retryable: false, summary: "The issuing CA's key or certificate is not available." },

  // the bank (seed 001's error table)
  INVALID_CREDENTIALS: {
    retryable: false,
    summary: "401 Invalid Credentials: wrong client_id/client_secret or inactive credential.",
  },
  INVALID_CLIENT_CERT: {
    retryable: false,
    summary: "401 Invalid Client Certificate: not bound, expired, key mismatch or wrong chain.",
  },
  IP_NOT_ALLOWED: {
    retryable: false,
    summary: "403 Forbidden: the egress IP is not in the credential's allowlist.",
  },
  TLS_HANDSHAKE_FAILED: {
    retryable: false,
    summary: "The mTLS handshake failed (cert/key, PFX password, CA trust, TLS version).",
  },
  BANK_BAD_REQUEST: { retryable: false, summary: "The bank refused the request as malformed (400)." },
  BANK_UNAVAILABLE: { retryable: true, summary: "The bank answered 5xx, reset the connection or timed out." },
  BANK_PROTOCOL: { retryable: false, summary: "The bank answered something the contract does not allow." },
  BANK_ADMIN_UNAUTHORIZED: { retryable: false, summary: "The bank's admin API refused the API key." },
  TOKEN_NOT_BOUND: {
    retryable: false,
    summary: "The token's cnf.x5t#S256 is not the thumbprint of the presented cert (RFC 8705).",
  },
  SLOTS_FULL: {
    retryable: false,
    summary: "Both certificate slots at the bank are taken and neither may be replaced.",
  },

  // secret stores
  NOT_FOUND: { retryable: false, summary: "The secret (or the requested version) does not exist." },
  CAS_CONFLICT: {
    retryable: false,
    summary: "Current material changed since it was read (compare-and-set failed).",
  },
  PENDING_CONFLICT: { retryable: false, summary: "Pending material of another rotation is already staged." },
  ACCESS_DENIED: { retryable: false, summary: "The store refused the credentials or policy." },
  STORE_UNAVAILABLE: { retryable: true, summary: "The store is unreachable, throttling or answering 5xx." },
  MATERIAL_INVALID: {
    retryable: false,
    summary: "Stored material is missing a field or holds a malformed one.",
  },
  STORE_KEY_INVALID: {
    retryable: false,
    summary: "The file store's encryption key is missing, malformed or wrong.",
  },

  // rotation
  LOCKED: { retryable: false, summary: "Another rotation of this credential holds the lock." },
  LOCK_LOST: {
    retryable: true,
    summary:
      "The rotation lock expired or was taken over (fencing token is stale): this process stops acting.",
  },
  RECORD_FINISHED: {
    retryable: false,
    summary: "A finished rotation record cannot change (a write from a process that stalled past its lease).",
  },
  ISSUER_FAILED: { retryable: true, summary: "The issuer did not sign the CSR." },
  CONSUMERS_ON_OLD_CERT: {
    retryable: false,
    summary: "The old cert is still in use past the idle bound; it stays bound.",
  },
  IMPORT_REJECTED: {
    retryable: false,
    summary:
      "certrotor import: the certificate given cannot be the credential's client certificate (no clientAuth, expired or not yet valid, a CA certificate, or it does not chain to the issuer's trust bundle); nothing was written.",
  },
  NO_PREVIOUS: {
    retryable: false,
    summary:
      "certrotor rollback (or the console's Roll back): the credential has no previous material that may become current again (none, expired, or the one a rollback replaced); nothing was changed.",
  },
  PREVIOUS_NOT_BOUND: {
    retryable: false,
    summary:
      "certrotor rollback (or the console's Roll back): the previous certificate is not bound at a bank where certrotor cannot bind (registration manual); bind it in the bank's portal first. Nothing was changed.",
  },
  OUT_DIR_NOT_EMPTY: {
    retryable: false,
    summary: "certrotor export: the --out directory exists and is not empty (give --force to write into it).",
  },
  UNKNOWN_TASK: {
    retryable: false,
    summary: "No human task with that id (certrotor task list shows them).",
  },
  TASK_CLOSED: {
    retryable: false,
    summary: "The human task is done or cancelled already: it cannot be completed or cancelled again.",
  },
  TASK_CANCELLED: {
    retryable: false,
    summary:
      "An operator cancelled the human task a rotation waited on (certrotor task cancel): the rotation is rolled back.",
  },
  TASK_CERT_REJECTED: {
    retryable: false,
    summary:
      "task complete --cert (or the console's upload): the certificate does not fit the task (pending key, subject, clientAuth, the bank's CA); nothing was changed.",
  },
  ROTATION_FAILED: {
    retryable: false,
    summary: "A rotation failed after its last attempt and was rolled back.",
  },

  // infrastructure
  REDIS_UNAVAILABLE: { retryable: true, summary: "Redis cannot be reached." },
  REDIS_ACCESS_DENIED: {
    retryable: false,
    summary: "Redis refused the configured user or password, or a command the ACL user may not run.",
  },
  REDIS_TLS_REFUSED: {
    retryable: false,
    summary:
      "Redis's TLS certificate does not chain to redis.tls.caFile (or the system roots) or does not name the server.",
  },
  LISTEN_FAILED: {
    retryable: false,
    summary:
      "The health/metrics server or the console cannot listen on its address (port in use, not permitted).",
  },
  CONSOLE_UNAUTHENTICATED: {
    retryable: false,
    summary: "A console page or action was asked for without a valid session (log in first).",
  },
  CONSOLE_FORBIDDEN: {
    retryable: false,
    summary: "The console user's role may not do this (a viewer asked for an action).",
  },
  CONSOLE_CSRF_INVALID: {
    retryable: false,
    summary: "A console form came without its CSRF token, or with one of another session.",
  },
  CONSOLE_RATE_LIMITED: {
    retryable: true,
    summary:
      "Too many console login attempts from one address within a minute (console.loginAttemptsPerMinute).",
  },
  CONSOLE_NO_QUEUE: {
    retryable: false,
    summary: "A console action needs the workers' queue, and the config has no redis: section.",
  },
  PATH_NOT_WRITABLE: {
    retryable: false,
    summary:
      "A configured directory (stateDir, a file store's dir or key file, --out) cannot be created or written: read-only, not permitted, not a directory.",
  },
  NO_WORKER: {
    retryable: true,
    summary:
      "rotate --wait: no worker consumes the rotate queue (none running with this redis.url and prefix, or all stopped while waiting).",
  },
  STATE_UNAVAILABLE: {
    retryable: true,
    summary: "The local state directory (file journal, file locks) cannot be read or written.",
  },
  ALERT_DELIVERY_FAILED: { retryable: true, summary: "An alert channel did not accept the alert." },
  INTERNAL: { retryable: false, summary: "An unexpected failure (a bug): see the logs for the cause." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CertrotorErrorOptions {
  /** The underlying error, for logs only. Never shown in alerts or job data. */
  cause?: unknown;
  /** What an operator should check (seed 001's troubleshooting rows). */
  hint?: string;
  /** Overrides the code's default retryability (e.g. a 429 that is retryable under a usually final code). */
  retryable?: boolean;
  /** Safe, structured context (field names, paths, HTTP status). Never secret values. */
  details?: Readonly<Record<string, string | number | boolean | undefined>>;
}

export class CertrotorError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, string | number | boolean | undefined>>;

  constructor(code: ErrorCode, message: string, options: CertrotorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CertrotorError";
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** The safe, one-line form for CLI output, alerts and job failedReason. */
  toSafeString(): string {
    return this.hint ? `${this.code}: ${this.message} (hint: ${this.hint})` : `${this.code}: ${this.message}`;
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean; hint?: string } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

export function isCertrotorError(error: unknown, code?: ErrorCode): error is CertrotorError {
  return error instanceof CertrotorError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a CertrotorError; a foreign error becomes INTERNAL with its cause kept for logs. */
export function toCertrotorError(error: unknown, fallback: ErrorCode = "INTERNAL"): CertrotorError {
  if (error instanceof CertrotorError) return error;
  return new CertrotorError(fallback, ERROR_CODES[fallback].summary, { cause: error });
}
