/**
 * Verifies AWS Signature Version 4 on a request, for real: the canonical request is rebuilt from what came
 * over the wire (method, path, query, the signed headers, the SHA-256 of the body actually received) and
 * signed with the configured secret key. Checks run in the order AWS's front end runs them, each with the
 * error AWS answers (dynalite's notes of real responses; protocols.md §4.2): header present → parameters
 * present → date format → 5-minute skew → Host signed → algorithm → credential shape → scope (region,
 * service, terminator, date) → access key known → signature → session token.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { coralError } from "./errors.js";

export interface SigningKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry it as X-Amz-Security-Token (temporary credentials). */
  sessionToken?: string;
}

export interface SignedRequest {
  method: string;
  /** Path as received, without the query string. */
  path: string;
  /** Query string as received, without '?'. */
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface VerifyOptions {
  region: string;
  service: string;
  findKey(accessKeyId: string): SigningKey | undefined;
  /** Server time in ms. */
  now: number;
  maxSkewMs?: number;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const AMZ_DATE = /^\d{8}T\d{6}Z$/;

const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** `AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=x;y, Signature=hex` → its parts. */
function parseAuthorization(auth: string): { algorithm: string; params: Record<string, string> } {
  const trimmed = auth.trim();
  const space = trimmed.indexOf(" ");
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  const params: Record<string, string> = {};
  for (const part of (space < 0 ? "" : trimmed.slice(space + 1)).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) params[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { algorithm, params };
}

/** 20240102T030405Z for a time in ms. */
export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function parseAmzDate(value: string): number {
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`;
  return Date.parse(iso);
}

/** RFC 3986 encoding, as the signer applies it to path segments and query parts. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalQuery(query: string): string {
  if (query === "") return "";
  const pairs = query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
    return [escapeUri(key), escapeUri(value)] as const;
  });
  pairs.sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Non-S3 services sign the URI-escaped path (the SDK's `uriEscapePath`). */
function canonicalPath(path: string): string {
  const decoded = path.split("/").map((segment) => escapeUri(decodeURIComponent(segment)));
  return escapeUri(decoded.join("/")).replace(/%2F/g, "/");
}

export function canonicalRequest(req: SignedRequest, signedHeaders: string[]): string {
  const headers = signedHeaders
    .map((name) => `${name}:${(header(req.headers, name) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  return [
    req.method.toUpperCase(),
    canonicalPath(req.path),
    canonicalQuery(req.query),
    headers,
    signedHeaders.join(";"),
    sha256Hex(req.body),
  ].join("\n");
}

export function signature(secretAccessKey: string, scope: string[], date: string, canonical: string): string {
  const [day, region, service, terminator] = scope as [string, string, string, string];
  const stringToSign = [ALGORITHM, date, scope.join("/"), sha256Hex(canonical)].join("\n");
  const kDate = hmac(`AWS4${secretAccessKey}`, day);
  const kSigning = hmac(hmac(hmac(kDate, region), service), terminator);
  return createHmac("sha256", kSigning).update(stringToSign).digest("hex");
}

function checkDate(date: string | undefined, now: number, maxSkewMs: number): string {
  if (date === undefined) throw new Error("unreachable: checked by caller");
  if (!AMZ_DATE.test(date) || Number.isNaN(parseAmzDate(date))) {
    throw coralError(
      "service",
      "IncompleteSignatureException",
      `Date must be in ISO-8601 'basic format'. Got '${date}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  const signedAt = parseAmzDate(date);
  if (signedAt < now - maxSkewMs) {
    const message = `Signature expired: ${date} is now earlier than ${amzDate(now - maxSkewMs)} (${amzDate(now)} - 5 min.)`;
    throw coralError("service", "InvalidSignatureException", message);
  }
  if (signedAt > now + maxSkewMs) {
    const message = `Signature not yet current: ${date} is still later than ${amzDate(now + maxSkewMs)} (${amzDate(now)} + 5 min.)`;
    throw coralError("service", "InvalidSignatureException", message);
  }
  return date;
}

function checkScope(parts: string[], options: VerifyOptions, date: string): void {
  const [, day, region, service, terminator] = parts;
  let problems = "";
  if (region !== options.region)
    problems += `Credential should be scoped to a valid region, not '${region}'. `;
  if (service !== options.service)
    problems += `Credential should be scoped to correct service: '${options.service}'. `;
  if (terminator !== "aws4_request") {
    problems += `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `;
  }
  if (day !== date.slice(0, 8)) {
    problems += `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${date.slice(0, 8)}', from '${date}'.`;
  }
  if (problems !== "") throw coralError("service", "InvalidSignatureException", problems.trim());
}

/** The key the request was signed with; throws the AwsError AWS would answer otherwise. */
export function verifySigV4(req: SignedRequest, options: VerifyOptions): SigningKey {
  const auth = header(req.headers, "authorization");
  if (auth === undefined || !auth.trim().startsWith("AWS4-")) {
    throw coralError(
      "service",
      "MissingAuthenticationTokenException",
      "Request is missing Authentication Token",
    );
  }
  const { algorithm, params } = parseAuthorization(auth);
  const date = header(req.headers, "x-amz-date");
  let missing = "";
  for (const name of ["Credential", "Signature", "SignedHeaders"]) {
    if (!params[name]) missing += `Authorization header requires '${name}' parameter. `;
  }
  if (date === undefined)
    missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  if (missing !== "")
    throw coralError("service", "IncompleteSignatureException", `${missing}Authorization=${auth}`);
  checkDate(date, options.now, options.maxSkewMs ?? 300_000);
  const signedHeaders = params.SignedHeaders!.split(";").map((name) => name.toLowerCase());
  if (!signedHeaders.includes("host")) {
    throw coralError(
      "service",
      "InvalidSignatureException",
      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  if (algorithm !== ALGORITHM) {
    const message = `Unsupported AWS 'algorithm': '${algorithm}' (only AWS4-HMAC-SHA256 for now). `;
    throw coralError("service", "IncompleteSignatureException", message);
  }
  const parts = params.Credential!.replace(/\/+$/, "").split("/");
  if (parts.length !== 5) {
    const message = `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.Credential}'`;
    throw coralError("service", "IncompleteSignatureException", message);
  }
  checkScope(parts, options, date!);
  const key = options.findKey(parts[0]!);
  if (key === undefined) {
    throw coralError(
      "service",
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    );
  }
  const expected = signature(
    key.secretAccessKey,
    parts.slice(1),
    date!,
    canonicalRequest(req, signedHeaders),
  );
  const given = Buffer.from(params.Signature!, "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected, "utf8"))) {
    const message =
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    throw coralError("service", "InvalidSignatureException", message);
  }
  if (header(req.headers, "x-amz-security-token") !== key.sessionToken) {
    throw coralError(
      "service",
      "UnrecognizedClientException",
      "The security token included in the request is invalid",
    );
  }
  return key;
}
