/**
 * What an operator should check for each bank failure: seed 001's troubleshooting table, in English.
 */
import type { ErrorCode } from "../errors.js";

export const BANK_HINTS = {
  INVALID_CREDENTIALS: "check client_id and client_secret, and that the credential is active at the bank",
  INVALID_CLIENT_CERT:
    "the certificate presented must be the one bound to the credential at the bank, not expired, its private key must match it, and it must come from the chain the environment trusts",
  IP_NOT_ALLOWED:
    "the egress IP is not in the credential's allowlist: check that the call leaves from the expected (registered) IP",
  TLS_HANDSHAKE_FAILED:
    "check that the client sends the right cert and key, the PFX passphrase, that the bank's CA (caFile) is trusted, and the TLS version (some banks accept TLS 1.2 only)",
  BANK_BAD_REQUEST: "the bank refused the request as malformed: check the bank URL and the adapter version",
  BANK_UNAVAILABLE:
    "the bank answered 5xx, reset the connection or timed out: retried with backoff; check the bank's status",
  /** Not a code: the BANK_UNAVAILABLE hint when the reset came right after a TLS 1.3 handshake. */
  RESET_AFTER_TLS13_HANDSHAKE:
    "the bank reset the connection right after the TLS 1.3 handshake: it may be refusing the client certificate (check it is from the chain the bank trusts, not expired, key matching) or be unavailable",
  BANK_PROTOCOL: "the bank answered outside its contract: check that url points at the Banking API",
  BANK_ADMIN_UNAUTHORIZED: "the admin API refused the API key: check banks.<name>.adminApiKey",
  SLOTS_FULL:
    "both certificate slots of the credential are taken: unbind one at the bank before binding another",
  TOKEN_NOT_BOUND:
    "the token's cnf.x5t#S256 is not the thumbprint of the certificate presented: the bank bound the token to another certificate",
} as const satisfies Partial<Record<ErrorCode | "RESET_AFTER_TLS13_HANDSHAKE", string>>;

export type BankErrorCode = Exclude<keyof typeof BANK_HINTS, "RESET_AFTER_TLS13_HANDSHAKE">;
