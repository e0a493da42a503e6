/**
 * The sandbox's HTTP plumbing: one error type carrying the answer to send, JSON body reading with a size
 * limit, and JSON replies. Every error answer has the same shape, `{ "error": code, "error_description": text }`
 * (RFC 6749 § 5.2 style), and `error_description` carries seed 001's exact phrases where the seed has one.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** A refusal the route wants answered as `status` with the standard error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Why, for the sandbox log only (never sent): e.g. "cert_not_bound", "ip_not_allowed". */
    readonly reason?: string,
    /** Extra answer headers, e.g. RFC 6749 § 5.2's WWW-Authenticate after a refused HTTP Basic client. */
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = "HttpError";
  }
}

export const badRequest = (description: string): HttpError =>
  new HttpError(400, "invalid_request", description);
export const notFound = (what: string): HttpError => new HttpError(404, "not_found", what);

const MAX_BODY = 64 * 1024;

/** The request body as text; 413 past 64 KiB. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY) throw new HttpError(413, "invalid_request", "request body larger than 64 KiB");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The body parsed as a JSON object; 400 when it is not one. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw badRequest("request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** A required non-empty string field; 400 naming the field otherwise. */
export function stringField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === "") throw badRequest(`missing field "${field}"`);
  if (typeof value !== "string") throw badRequest(`field "${field}" must be a string`);
  return value;
}

export function optionalStringField(body: Record<string, unknown>, field: string): string | undefined {
  return body[field] === undefined ? undefined : stringField(body, field);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (status === 204) {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  const headers: Record<string, string> = { ...error.headers };
  if (error.status === 401 && error.error === "invalid_token")
    headers["www-authenticate"] = 'Bearer error="invalid_token"';
  sendJson(res, error.status, { error: error.error, error_description: error.description }, headers);
}
