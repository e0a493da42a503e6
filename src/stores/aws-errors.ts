/**
 * Maps failures of AWS Secrets Manager calls to certrotor's error codes. Works on what the SDK throws (an
 * error whose `name` is the AWS error code, with `$metadata.httpStatusCode`, or a Node network error with a
 * `code`) without importing SDK types, so nothing of the SDK leaks past the adapter.
 *
 * Messages keep AWS's own text for refusals (an operator needs "is not authorized to perform:
 * secretsmanager:GetSecretValue on resource: ...") but never anything that could be a secret: configured
 * keys and tokens are scrubbed from it, and it is cut to one line.
 */
import { CertrotorError, type ErrorCode } from "../errors.js";
import type { CredentialRef } from "./types.js";

/** A failed call, as the adapter sees it before mapping. */
export class AwsCallFailure extends Error {
  constructor(
    /** The AWS error code (`ResourceNotFoundException`), or the network error code (`ECONNREFUSED`). */
    readonly awsCode: string,
    readonly operation: string,
    readonly status: number | undefined,
    readonly requestId: string | undefined,
    readonly awsMessage: string,
    options: { cause: unknown },
  ) {
    super(`${operation}: ${awsCode}`, options);
    this.name = "AwsCallFailure";
  }
}

interface SdkLikeError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
}

/**
 * LimitExceededException is a Secrets Manager quota (e.g. more than 100 versions of a secret within 24 hours:
 * API_PutSecretValue), which retrying cannot fix; the SDK's standard retry strategy counts it among the
 * throttling codes and would retry it with throttling backoff. aws-client.ts wraps it in this error inside
 * the SDK's retry loop, which the strategy does not retry; toCallFailure unwraps it.
 */
export class QuotaExceeded extends Error {
  readonly $metadata: SdkLikeError["$metadata"];

  constructor(readonly original: Error & SdkLikeError) {
    super(String(original.message), { cause: original });
    this.name = "CertrotorQuotaExceeded";
    this.$metadata = original.$metadata;
  }
}

export const isQuotaError = (error: unknown): error is Error & SdkLikeError =>
  error instanceof Error && error.name === "LimitExceededException";

export function toCallFailure(operation: string, raw: unknown): AwsCallFailure {
  const error = raw instanceof QuotaExceeded ? raw.original : raw;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkLikeError;
  const status = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined;
  const requestId = typeof e.$metadata?.requestId === "string" ? e.$metadata.requestId : undefined;
  // Network errors keep their Node code (ECONNREFUSED); service errors carry the AWS code as `name`.
  const code =
    typeof e.code === "string" && status === undefined
      ? e.code
      : typeof e.name === "string"
        ? e.name
        : "Error";
  const message = typeof e.message === "string" ? e.message : String(error);
  return new AwsCallFailure(code, operation, status, requestId, message, { cause: error });
}

export function isAwsCode(error: unknown, ...codes: string[]): error is AwsCallFailure {
  return error instanceof AwsCallFailure && codes.includes(error.awsCode);
}

const DENIED = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "CredentialsProviderError",
  "DecryptionFailure",
]);

const UNAVAILABLE = new Set([
  "ThrottlingException",
  "TooManyRequestsException",
  "InternalServiceError",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

export interface FailureContext {
  store: string;
  path?: string;
  /** Strings that must never appear in a message (configured secret key, session token). */
  scrub: readonly string[];
}

/** AWS's text, one line, bounded, with anything configured as secret cut out. */
export function safeAwsMessage(text: string, scrub: readonly string[]): string {
  let safe = text.replace(/\s+/g, " ").trim();
  for (const secret of scrub) if (secret.length > 0) safe = safe.split(secret).join("[redacted]");
  return safe.length > 400 ? `${safe.slice(0, 400)}…` : safe;
}

function codeFor(failure: AwsCallFailure): ErrorCode {
  if (failure.awsCode === "ResourceNotFoundException") return "NOT_FOUND";
  if (failure.awsCode === "LimitExceededException") return "CONFIG_INVALID";
  if (DENIED.has(failure.awsCode)) return "ACCESS_DENIED";
  if (UNAVAILABLE.has(failure.awsCode) || (failure.status !== undefined && failure.status >= 500)) {
    return "STORE_UNAVAILABLE";
  }
  if (failure.awsCode === "InvalidNextTokenException") return "BAD_ARGUMENT";
  return "INTERNAL";
}

/** The CertrotorError for a failed call; anything else passes through `toCertrotorError`-style. */
export function mapAwsFailure(error: unknown, context: FailureContext): CertrotorError {
  if (error instanceof CertrotorError) return error;
  if (!(error instanceof AwsCallFailure)) {
    return new CertrotorError(
      "INTERNAL",
      `AWS Secrets Manager store "${context.store}" failed unexpectedly`,
      {
        cause: error,
      },
    );
  }
  const code = codeFor(error);
  const where = context.path === undefined ? "" : ` on "${context.path}"`;
  const aws = safeAwsMessage(error.awsMessage, context.scrub);
  const prefix = `AWS Secrets Manager store "${context.store}": ${error.operation}${where}`;
  const message =
    code === "NOT_FOUND"
      ? `${prefix}: the secret does not exist (${aws})`
      : code === "ACCESS_DENIED"
        ? `${prefix} was refused: ${error.awsCode}: ${aws}`
        : code === "STORE_UNAVAILABLE"
          ? `${prefix} failed: the service is unavailable (${error.awsCode}${error.status ? ` ${error.status}` : ""})`
          : code === "BAD_ARGUMENT"
            ? `${prefix}: the list cursor is not valid for this store`
            : code === "CONFIG_INVALID"
              ? `${prefix} hit a Secrets Manager quota: ${error.awsCode}: ${aws}`
              : `${prefix} was rejected: ${error.awsCode}: ${aws}`;
  const hint =
    code === "ACCESS_DENIED"
      ? `check the credentials and that the IAM policy allows secretsmanager:${error.operation} on the secret`
      : code === "STORE_UNAVAILABLE"
        ? "check the endpoint, the network path to it, and the service's health; the call is retried"
        : code === "CONFIG_INVALID"
          ? "retrying does not help: a secret keeps at most 100 versions and never drops unlabelled ones younger than 24 hours (find what writes versions to it so often), or another quota of the account was reached (Service Quotas)"
          : undefined;
  return new CertrotorError(code, message, {
    cause: error,
    ...(hint ? { hint } : {}),
    details: {
      store: context.store,
      operation: error.operation,
      path: context.path,
      awsCode: error.awsCode,
      httpStatus: error.status,
      requestId: error.requestId,
    },
  });
}

export type StoreFailureCode = "NOT_FOUND" | "CAS_CONFLICT" | "PENDING_CONFLICT";

/** An error the store raises itself (not a refused call), naming the store, the path and the credential. */
export function storeFailure(
  code: StoreFailureCode,
  store: string,
  ref: CredentialRef,
  what: string,
  hint?: string,
): CertrotorError {
  return new CertrotorError(
    code,
    `AWS Secrets Manager store "${store}": ${what} ("${ref.path}", credential "${ref.credentialId}")`,
    {
      details: { store, path: ref.path, credentialId: ref.credentialId },
      ...(hint ? { hint } : {}),
    },
  );
}
