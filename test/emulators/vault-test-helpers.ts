/** Shared by the Vault emulator tests: node-vault clients on an emulator, and reading a refusal. */
import assert from "node:assert/strict";
import nodeVault from "node-vault";
import type { VaultEmulator } from "./vault/server.js";

export type Client = ReturnType<typeof nodeVault>;

/** Keys of Vault's success envelope (sdk/logical/translate_response.go HTTPResponse): always all present. */
export const ENVELOPE_KEYS = [
  "auth",
  "data",
  "lease_duration",
  "lease_id",
  "mount_type",
  "renewable",
  "request_id",
  "warnings",
  "wrap_info",
];

/** Go's time.RFC3339Nano in UTC: nanoseconds with trailing zeros trimmed. */
export const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A node-vault client on `vault`; `token` null = no token at all. */
export function clientFor(
  vault: VaultEmulator,
  token: string | null = vault.rootToken,
  extra: object = {},
): Client {
  return nodeVault({ endpoint: vault.url, ...(token ? { token } : {}), ...extra });
}

export interface Refusal {
  /** node-vault's message: Vault's first error, or `Status <code>`. */
  message: string;
  status: number;
  body: unknown;
}

/** What node-vault rejected with (ApiResponseError: message and response {statusCode, body}). */
export async function refusal(promise: Promise<unknown>): Promise<Refusal> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  const response = (caught as { response?: { statusCode: number; body: unknown } }).response;
  assert.ok(response, `expected an HTTP refusal, got ${String(caught)}`);
  return { message: (caught as Error).message, status: response.statusCode, body: response.body };
}

export function sortedKeys(value: unknown): string[] {
  return Object.keys(value as object).sort();
}
