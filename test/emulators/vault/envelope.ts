/**
 * What Vault's HTTP layer puts on the wire (sdk/logical/translate_response.go, sdk/logical/response_util.go):
 * the success envelope with every key always present, the `{"errors": [...]}` body for status >= 400, and
 * 204 with an empty body when a handler returns nothing.
 */
import { randomUUID } from "node:crypto";

export interface AuthBlock {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: "service";
  orphan: boolean;
  mfa_requirement: null;
  num_uses: number;
}

export interface Envelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: unknown;
  wrap_info: null;
  warnings: string[] | null;
  auth: AuthBlock | null;
  mount_type: string;
}

/** A handler's answer: a status and a JSON body, or no body at all when `body` is undefined. */
export interface Reply {
  status: number;
  body?: unknown;
  /** A raw (non-JSON) body, e.g. PKI's `ca/pem`. */
  raw?: { data: string | Buffer; contentType: string };
}

export interface EnvelopeOptions {
  mountType?: string;
  warnings?: string[];
  auth?: AuthBlock;
  status?: number;
}

export function envelope(data: unknown, options: EnvelopeOptions = {}): Envelope {
  return {
    request_id: randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: options.warnings && options.warnings.length > 0 ? options.warnings : null,
    auth: options.auth ?? null,
    mount_type: options.mountType ?? "",
  };
}

/** 200 with the envelope around `data`. */
export function ok(data: unknown, options: EnvelopeOptions = {}): Reply {
  return { status: options.status ?? 200, body: envelope(data, options) };
}

/** 204, empty body: a write or delete whose handler returned nothing. */
export function noContent(): Reply {
  return { status: 204 };
}

/** A status without a body (`RespondWithStatusCode(nil, req, code)`). */
export function bare(status: number): Reply {
  return { status };
}

/** `{"errors": [...]}` with the status; `errors` is `[]` when there is no message (RespondError). */
export function fail(status: number, ...messages: string[]): Reply {
  return { status, body: { errors: messages } };
}

/** Read or list of something absent: 404 `{"errors":[]}`. */
export function notFound(): Reply {
  return fail(404);
}

/**
 * `logical.RespondWithStatusCode(resp, req, code)`: a full envelope marshalled by the backend itself, so
 * the router never fills its mount_type (it stays "").
 */
export function rawEnvelope(status: number, data: unknown, warnings?: string[]): Reply {
  return { status, body: envelope(data, { warnings }) };
}

/**
 * A policy denial of a valid token: the go-multierror text Vault ≥ 1.0 sends (vault/request_handling.go appends
 * logical.ErrPermissionDenied to a multierror; seen verbatim in rajanadar/VaultSharp#176 on 1.5.3).
 */
export const PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n";

/**
 * A missing, revoked or expired token. Since Vault 1.17 (hashicorp/vault#25953) CheckToken returns a multierror
 * of "permission denied" and "invalid token", sent as one string; before, the bare "permission denied"
 * (website/content/docs/concepts/tokens.mdx § Error Responses documents both messages).
 */
export const INVALID_TOKEN_SINCE_1_17 = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";
export const INVALID_TOKEN_BEFORE_1_17 = "permission denied";

/** AppRole user lockout (Vault ≥ 1.13, partials/user-lockout.mdx): handleLoginRequest returns ErrPermissionDenied. */
export const LOCKED_OUT = "permission denied";
