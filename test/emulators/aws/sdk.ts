/**
 * Test helpers around the real AWS SDK v3 client pointed at the emulator: a client that also records the
 * raw HTTP answers (status, headers, body) it received, so tests can check the bytes AWS would send, and a
 * helper that returns the error a call rejected with.
 */
import assert from "node:assert/strict";
import { SecretsManagerClient, type SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";
import type { AwsEmulator } from "./server.js";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the SDK throws for a service error (modeled or not). */
export interface SdkError extends Error {
  $fault?: "client" | "server";
  $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

interface HttpResponseLike {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

async function drain(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export function clientFor(
  emulator: Pick<AwsEmulator, "url" | "region" | "credentials">,
  overrides: Partial<SecretsManagerClientConfig> = {},
): { client: SecretsManagerClient; responses: RawResponse[] } {
  const client = new SecretsManagerClient({
    region: emulator.region,
    endpoint: emulator.url,
    credentials: emulator.credentials,
    maxAttempts: 1,
    ...overrides,
  });
  const responses: RawResponse[] = [];
  // Sits between the transport and the SDK's deserializer: reads the body, keeps a copy, hands the bytes on.
  const record =
    (next: (args: unknown) => Promise<{ response: unknown }>) =>
    async (args: unknown): Promise<{ response: unknown }> => {
      const result = await next(args);
      const response = result.response as HttpResponseLike;
      const bytes = await drain(response.body);
      responses.push({
        status: response.statusCode,
        headers: { ...response.headers },
        body: bytes.toString("utf8"),
      });
      response.body = bytes;
      return result;
    };
  type Middleware = Parameters<typeof client.middlewareStack.addRelativeTo>[0];
  client.middlewareStack.addRelativeTo(record as unknown as Middleware, {
    relation: "after",
    toMiddleware: "deserializerMiddleware",
    name: "recordRawResponse",
  });
  return { client, responses };
}

export async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof Error, "rejects with an Error");
  return caught as SdkError;
}

/** The last raw answer, parsed. */
export function lastBody(responses: RawResponse[]): Record<string, unknown> {
  const last = responses.at(-1);
  assert.ok(last, "a response was recorded");
  return JSON.parse(last.body) as Record<string, unknown>;
}

interface HttpRequestLike {
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Rewrites the JSON body of the client's outgoing requests. Before signing (`when: "unsigned"`) the SDK signs
 * the rewritten body, as a hand-built request would be; after signing (`"signed"`) the body no longer matches
 * the signature, as a request altered in transit.
 */
export function rewriteBody(
  client: SecretsManagerClient,
  when: "unsigned" | "signed",
  rewrite: (body: Record<string, unknown>) => Record<string, unknown>,
): void {
  const mutate =
    (next: (args: { request: unknown }) => Promise<unknown>) =>
    async (args: { request: unknown }): Promise<unknown> => {
      const request = args.request as HttpRequestLike;
      const raw = request.body as string | Uint8Array;
      // The SDK's body is a Uint8Array with string-like methods; read its bytes without touching those.
      const sent =
        typeof raw === "string"
          ? raw
          : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8");
      const body = JSON.stringify(rewrite(JSON.parse(sent) as Record<string, unknown>));
      request.body = body;
      const lengthHeader = Object.keys(request.headers).find((h) => h.toLowerCase() === "content-length");
      if (lengthHeader) request.headers[lengthHeader] = String(Buffer.byteLength(body));
      return next(args);
    };
  type Middleware = Parameters<typeof client.middlewareStack.addRelativeTo>[0];
  client.middlewareStack.addRelativeTo(mutate as unknown as Middleware, {
    relation: when === "unsigned" ? "before" : "after",
    toMiddleware: when === "unsigned" ? "contentLengthMiddleware" : "httpSigningMiddleware",
    name: `rewriteBody-${when}`,
  });
}
