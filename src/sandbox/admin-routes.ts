/**
 * The CORE admin API (versioned under /admin/v1, Bearer API key checked by the dispatcher): credentials,
 * the certificate registry, bank-signed certificates (seed 000's model) and certificate bindings (seed
 * 001: at most 2 active per credential). Documented route by route in README § Bank sandbox.
 */
import { createHash } from "node:crypto";
import { isCertrotorError } from "../errors.js";
import { badRequest, HttpError, notFound, optionalStringField, readJsonObject, stringField } from "./http.js";
import type { Route, RouteContext } from "./router.js";
import type {
  BindingView,
  CertificateRecord,
  CertificateRef,
  CredentialRecord,
  CredentialStatus,
  SandboxState,
} from "./state.js";

export const ADMIN_PREFIX = "/admin/v1";

export interface AdminDeps {
  readonly state: SandboxState;
  /** Signs a CSR with the bank's own CA. */
  signCsr(csrPem: string): Promise<{ certPem: string; chainPem: string }>;
}

const credentialJson = (record: CredentialRecord) => ({
  client_id: record.clientId,
  status: record.status,
  allowed_ips: record.allowedIps,
  created_at: record.createdAt.toISOString(),
  updated_at: record.updatedAt.toISOString(),
});

const certificateJson = (record: CertificateRecord) => ({
  id: record.id,
  fingerprint: record.fingerprint,
  subject: record.subject,
  issuer: record.issuer,
  not_before: record.notBefore.toISOString(),
  not_after: record.notAfter.toISOString(),
  registered_at: record.registeredAt.toISOString(),
});

const bindingJson = (view: BindingView) => ({
  id: view.certificate.id,
  fingerprint: view.certificate.fingerprint,
  subject: view.certificate.subject,
  not_after: view.certificate.notAfter.toISOString(),
  bound_at: view.boundAt.toISOString(),
  last_used_at: view.lastUsedAt?.toISOString() ?? null,
});

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

/** A path segment naming a certificate: its id ("crt-...") or its SHA-256 fingerprint (hex). */
const refFromPath = (text: string): CertificateRef =>
  /^[0-9a-f:]{64,95}$/i.test(text) ? { fingerprint: text } : { certificateId: text };

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
    let signed: { certPem: string; chainPem: string };
    try {
      signed = await entry.result;
    } catch (error) {
      if (isCertrotorError(error)) throw badRequest(`field "csr": ${error.message}`);
      throw error;
    }
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
      const ref = certificateRefField(await readJsonObject(ctx.req));
      const { view, created } = state.bind(ctx.params["clientId"]!, ref);
      ctx.reply(created ? 201 : 200, bindingJson(view));
    }),
    route("DELETE", "/credentials/:clientId/certificates/:ref", (ctx) => {
      if (!state.unbind(ctx.params["clientId"]!, refFromPath(ctx.params["ref"]!))) {
        throw new HttpError(
          404,
          "not_bound",
          `certificate "${ctx.params["ref"]}" is not bound to this credential`,
        );
      }
      ctx.reply(204, undefined);
    }),
  ];
}
