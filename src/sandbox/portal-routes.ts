/**
 * The bank's portal, as the routes a person's browser would call (versioned under /portal/v1, its own
 * Bearer key, checked by the dispatcher): see a credential's certificates, bind one by uploading its PEM,
 * unbind one, and have the bank's CA sign an uploaded CSR (seed 000: "submit the CSR through the
 * developer portal, download the signed certificate"). The portal binds for every credential, including
 * a portal-only one, and keeps each credential's slot limit. `certrotor sandbox portal ...` plays the
 * person against these routes.
 */
import { csrAnswer, unbindOrRefuse } from "./admin-routes.js";
import { readJsonObject, stringField } from "./http.js";
import type { Route } from "./router.js";
import type { SandboxState } from "./state.js";
import { bindingJson, certificateJson } from "./views.js";

export const PORTAL_PREFIX = "/portal/v1";

export interface PortalDeps {
  readonly state: SandboxState;
  /** Signs a CSR with the bank's own CA (the same signer as the admin API's). */
  signCsr(csrPem: string): Promise<{ certPem: string; chainPem: string }>;
}

export function portalRoutes(deps: PortalDeps): Route[] {
  const { state } = deps;
  const route = (method: Route["method"], path: string, handle: Route["handle"]): Route => ({
    method,
    path: `${PORTAL_PREFIX}${path}`,
    guard: "portal",
    endpoint: "portal",
    handle,
  });
  return [
    route("GET", "/credentials/:clientId/certificates", (ctx) => {
      const clientId = ctx.params["clientId"]!;
      state.requireCredential(clientId);
      ctx.note({ clientId });
      ctx.reply(200, { certificates: state.boundCertificates(clientId).map(bindingJson) });
    }),
    route("POST", "/credentials/:clientId/certificates", async (ctx) => {
      const clientId = ctx.params["clientId"]!;
      const pem = stringField(await readJsonObject(ctx.req), "pem");
      state.requireCredential(clientId);
      ctx.note({ clientId });
      const { record } = state.registerCertificate(pem);
      const { view, created } = state.bind(clientId, { certificateId: record.id });
      ctx.reply(created ? 201 : 200, bindingJson(view));
    }),
    route("DELETE", "/credentials/:clientId/certificates/:ref", (ctx) => {
      const clientId = ctx.params["clientId"]!;
      ctx.note({ clientId });
      unbindOrRefuse(state, clientId, ctx.params["ref"]!);
      ctx.reply(204, undefined);
    }),
    route("POST", "/certificate-requests", async (ctx) => {
      const csr = stringField(await readJsonObject(ctx.req), "csr");
      const signed = await csrAnswer(deps.signCsr(csr));
      const { record } = state.registerCertificate(signed.certPem);
      ctx.reply(201, {
        certificate: certificateJson(record),
        certificate_pem: signed.certPem,
        chain_pem: signed.chainPem,
      });
    }),
  ];
}
