/**
 * The CORE admin API (versioned under /admin/v1, Bearer API key checked by the dispatcher): credentials,
 * the certificate registry, bank-signed certificates (seed 000's model) and certificate bindings (seed
 * 001: at most 2 active per credential, 1 for a single-slot one). A portal-only credential's bindings
 * are refused here (422 portal_only): only the portal routes change them. Documented route by route in
 * docs/internals/sandbox.md.
 */
import { createHash } from "node:crypto";
import { isCertrotorError } from "../errors.js";
import { badRequest, HttpError, notFound, optionalStringField, readJsonObject, stringField } from "./http.js";
import type { Route, RouteContext } from "./router.js";
import type { CertificateRef, CredentialStatus, SandboxState } from "./state.js";
import { bindingJson, certificateJson, credentialJson, refFromPath } from "./views.js";

export const ADMIN_PREFIX = "/admin/v1";

export interface AdminDeps {
  readonly state: SandboxState;
  /** Signs a CSR with the bank's own CA. */
  signCsr(csrPem: string): Promise<{ certPem: string; chainPem: string }>;
}

function statusField(body: Record<string, unknown>): CredentialStatus | undefined {
  const status = optionalStringField(body, "status");
  if (status !== undefined && status !== "active" && status !== "inactive") {
    throw badRequest('field "status" must be "active" or "inactive"');
  }
  return status;
}

function ipsField(body: Record<string, unknown>): string[] | undefined {
  const value = body["allowed_ips"];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== "string")) {
    throw badRequest('field "allowed_ips" must be an array of IP addresses or CIDR blocks');
  }
  return value as string[];
}

/** `{ certificate_id }` or `{ fingerprint }` (exactly one). */
function certificateRefField(body: Record<string, unknown>): CertificateRef {
  const certificateId = optionalStringField(body, "certificate_id");
  const fingerprint = optionalStringField(body, "fingerprint");
  if ((certificateId === undefined) === (fingerprint === undefined)) {
    throw badRequest('give exactly one of fields "certificate_id" and "fingerprint"');
  }
  return certificateId !== undefined ? { certificateId } : { fingerprint: fingerprint! };
}

/** The signed certificate, or 400 naming the `csr` field when the CSR was refused. */
export async function csrAnswer(
  signing: Promise<{ certPem: string; chainPem: string }>,
): Promise<{ certPem: string; chainPem: string }> {
  try {
    return await signing;
  } catch (error) {
    if (isCertrotorError(error)) throw badRequest(`field "csr": ${error.message}`);
    throw error;
  }
}

/** Unbinds; 404 `not_bound` when the certificate was not bound to the credential. */
export function unbindOrRefuse(state: SandboxState, clientId: string, refText: string): void {
  if (!state.unbind(clientId, refFromPath(refText))) {
    throw new HttpError(404, "not_bound", `certificate "${refText}" is not bound to this credential`);
  }
}

/** 422 for a credential whose certificates only the portal may bind or unbind. */
function refusePortalOnly(state: SandboxState, clientId: string): void {
  if (!state.requireCredential(clientId).portalOnly) return;
  throw new HttpError(
    422,
    "portal_only",
    `credential "${clientId}" has its certificates bound and unbound only in the bank's portal: the admin API cannot do it`,
    "portal_only",
  );
}

/** Idempotent CSR signing: one signature per Idempotency-Key; the same key with another CSR is refused. */
function csrSigner(deps: AdminDeps) {
  const byKey = new Map<
    string,
    { csrDigest: string; result: Promise<{ certPem: string; chainPem: string }> }
  >();
  return async (ctx: RouteContext): Promise<void> => {
    const key = ctx.req.headers["idempotency-key"];
    if (typeof key !== "string" || key.length === 0 || key.length > 200) {
      throw badRequest('header "Idempotency-Key" is required (1-200 characters)');
    }
    ctx.note({ idempotencyKey: key });
    const csr = stringField(await readJsonObject(ctx.req), "csr");
    const csrDigest = createHash("sha256").update(csr.trim()).digest("hex");
    const known = byKey.get(key);
    if (known && known.csrDigest !== csrDigest) {
      throw new HttpError(
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was already used with another CSR",
      );
    }
    const entry = known ?? { csrDigest, result: deps.signCsr(csr) };
    if (!known) {
      byKey.set(key, entry);
      entry.result.catch(() => byKey.delete(key));
    }
    const signed = await csrAnswer(entry.result);
    const { record } = deps.state.registerCertificate(signed.certPem);
    ctx.reply(known ? 200 : 201, {
      certificate: certificateJson(record),
      certificate_pem: signed.certPem,
      chain_pem: signed.chainPem,
    });
  };
}

export function adminRoutes(deps: AdminDeps): Route[] {
  const { state } = deps;
  const route = (method: Route["method"], path: string, handle: Route["handle"]): Route => ({
    method,
    path: `${ADMIN_PREFIX}${path}`,
    guard: "admin",
    endpoint: "admin",
    handle,
  });
  return [
    route("POST", "/credentials", async (ctx) => {
      const body = await readJsonObject(ctx.req);
      const { credential, clientSecret } = state.createCredential({
        clientId: optionalStringField(body, "client_id"),
        status: statusField(body),
        allowedIps: ipsField(body),
      });
      ctx.note({ clientId: credential.clientId });
      ctx.reply(201, { ...credentialJson(credential), client_secret: clientSecret });
    }),
    route("GET", "/credentials/:clientId", (ctx) => {
      ctx.reply(200, credentialJson(state.requireCredential(ctx.params["clientId"]!)));
    }),
    route("PATCH", "/credentials/:clientId", async (ctx) => {
      const body = await readJsonObject(ctx.req);
      const patch = { status: statusField(body), allowedIps: ipsField(body) };
      ctx.reply(200, credentialJson(state.updateCredential(ctx.params["clientId"]!, patch)));
    }),
    route("POST", "/certificates", async (ctx) => {
      const { record, created } = state.registerCertificate(
        stringField(await readJsonObject(ctx.req), "pem"),
      );
      ctx.reply(created ? 201 : 200, certificateJson(record));
    }),
    route("GET", "/certificates/:certificateId", (ctx) => {
      const record = state.certificate(refFromPath(ctx.params["certificateId"]!));
      if (!record) throw notFound(`certificate "${ctx.params["certificateId"]}" is not registered`);
      ctx.reply(200, certificateJson(record));
    }),
    route("POST", "/certificate-requests", csrSigner(deps)),
    route("GET", "/credentials/:clientId/certificates", (ctx) => {
      const clientId = ctx.params["clientId"]!;
      state.requireCredential(clientId);
      ctx.reply(200, { certificates: state.boundCertificates(clientId).map(bindingJson) });
    }),
    route("POST", "/credentials/:clientId/certificates", async (ctx) => {
      const clientId = ctx.params["clientId"]!;
      const ref = certificateRefField(await readJsonObject(ctx.req));
      refusePortalOnly(state, clientId);
      const { view, created } = state.bind(clientId, ref);
      ctx.reply(created ? 201 : 200, bindingJson(view));
    }),
    route("DELETE", "/credentials/:clientId/certificates/:ref", (ctx) => {
      refusePortalOnly(state, ctx.params["clientId"]!);
      unbindOrRefuse(state, ctx.params["clientId"]!, ctx.params["ref"]!);
      ctx.reply(204, undefined);
    }),
  ];
}
