/**
 * Errors as AWS Secrets Manager puts them on the wire. Two families, because the service has two layers:
 * - the service's own, modeled errors: HTTP 400 (500 for InternalServiceError) with
 *   `{"__type":"<Code>","Message":"..."}` (protocols.md §4.2, AWS-validated localstack snapshots);
 * - the shared AWS front end ("Coral") that authenticates and throttles before the service runs: the type is
 *   namespaced and the member is lowercase `message`, e.g.
 *   `{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"..."}` (captured from real
 *   AWS JSON services; AccessDeniedException keeps a capital `Message`). The SDK strips the namespace, so
 *   both reach callers as `error.name === "UnrecognizedClientException"`.
 */

export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** The JSON body as sent; defaults to the modeled shape. */
    readonly body: Record<string, string> = { __type: type, Message: message },
  ) {
    super(message);
    this.name = type;
  }
}

/** A front-end (authentication / throttling) error: namespaced `__type`, lowercase `message`. */
export function coralError(namespace: string, type: string, message?: string, status = 400): AwsError {
  const body: Record<string, string> = { __type: `com.amazon.coral.${namespace}#${type}` };
  if (message !== undefined) body.message = message;
  return new AwsError(type, message ?? "", status, body);
}

export const notFound = (message = "Secrets Manager can't find the specified secret."): AwsError =>
  new AwsError("ResourceNotFoundException", message);

export const invalidRequest = (message: string): AwsError => new AwsError("InvalidRequestException", message);

export const invalidParameter = (message: string): AwsError =>
  new AwsError("InvalidParameterException", message);

/** AWS's one-line form of a constraint violation on a request member. */
export function validation(member: string, constraint: string, value?: string): AwsError {
  const shown = value === undefined ? "" : ` '${value}'`;
  return new AwsError(
    "ValidationException",
    `1 validation error detected: Value${shown} at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

export const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";
