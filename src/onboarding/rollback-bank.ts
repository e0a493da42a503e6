/**
 * The bank's side of an operator rollback: the previous certificate must be bound, and proven by a token
 * call, before it becomes current again (invariant 1). By the bank's registration:
 * - `api`: bound again through the slot API when it was unbound. At a single-slot bank (`maxSlots: 1`)
 *   that is a cut-over: the current certificate is unbound first, and bound back when the previous one
 *   fails its token call.
 * - `manual`: certrotor cannot bind (a person does, in the bank's portal): the token call tells whether it
 *   is still bound, and PREVIOUS_NOT_BOUND stops the rollback, nothing changed, when it is not.
 * - `none`: the bank trusts the issuing CA; the token call proves it.
 */
import type { BankConfig } from "../config/schema.js";
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { HeldLock, RotationDeps } from "../rotation/context.js";
import { fenced } from "../rotation/fence.js";
import type { Material } from "../stores/types.js";

export type RestoredBinding = "rebound" | "cut-over" | "bound" | "portal" | "trusted-ca";

export interface BindingRequest {
  credentialId: string;
  clientId: string;
  previous: Material;
  current: Material;
}

async function prove(deps: RotationDeps, holder: { lock: HeldLock }, request: BindingRequest): Promise<void> {
  const { previous, clientId } = request;
  const clientSecret = previous.clientSecret ?? request.current.clientSecret;
  if (!clientSecret) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `credential "${request.credentialId}": neither the previous nor the current material has a client secret, so the previous certificate cannot be proven; nothing was changed`,
      { details: { credentialId: request.credentialId, field: "clientSecret" } },
    );
  }
  await fenced(holder, () =>
    deps.bank.verify(
      {
        certPem: previous.certPem,
        keyPem: previous.keyPem,
        ...(previous.chainPem ? { chainPem: previous.chainPem } : {}),
      },
      { clientId, clientSecret },
      deps.probeAccountId ? { probeAccountId: deps.probeAccountId } : {},
    ),
  );
}

async function rebindThroughApi(
  deps: RotationDeps,
  holder: { lock: HeldLock },
  request: BindingRequest,
  maxSlots: number,
): Promise<RestoredBinding> {
  const slots = deps.bank.slots;
  if (!slots)
    throw new CertrotorError("INTERNAL", `bank "${deps.bank.name}" has registration api but no slot API`);
  const { clientId, previous, current } = request;
  const bound = await slots.listSlots(clientId);
  if (bound.some((slot) => slot.fingerprint === previous.fingerprint)) {
    await prove(deps, holder, request);
    return "bound";
  }
  const cutOver = bound.length >= maxSlots && bound.some((slot) => slot.fingerprint === current.fingerprint);
  if (cutOver) await fenced(holder, () => slots.unbind(clientId, current.fingerprint));
  try {
    await fenced(holder, () => slots.bind(clientId, previous.certPem));
    await prove(deps, holder, request);
  } catch (error) {
    // the current certificate must be bound again whatever failed: consumers still read it
    if (cutOver) await undoCutOver(deps, request);
    throw error;
  }
  return cutOver ? "cut-over" : "rebound";
}

/** After a cut-over that cannot go on: the previous certificate unbound, the current one bound again. */
export async function undoCutOver(deps: RotationDeps, request: BindingRequest): Promise<void> {
  const slots = deps.bank.slots;
  if (!slots) return;
  await slots.unbind(request.clientId, request.previous.fingerprint).catch(() => undefined);
  await slots.bind(request.clientId, request.current.certPem);
}

export async function restoreBinding(
  deps: RotationDeps,
  holder: { lock: HeldLock },
  bankConfig: BankConfig | undefined,
  request: BindingRequest,
): Promise<RestoredBinding> {
  const registration = bankConfig?.registration ?? "api";
  if (registration === "api") return rebindThroughApi(deps, holder, request, bankConfig?.maxSlots ?? 2);
  try {
    await prove(deps, holder, request);
  } catch (error) {
    if (registration !== "manual" || !isCertrotorError(error, "INVALID_CLIENT_CERT")) throw error;
    throw new CertrotorError(
      "PREVIOUS_NOT_BOUND",
      `credential "${request.credentialId}": the previous certificate ${request.previous.fingerprint.slice(0, 16)}… is not bound at bank "${deps.bank.name}" (registration manual: certrotor cannot bind it); nothing was changed`,
      {
        cause: error,
        hint: `bind certificate ${request.previous.fingerprint} to client_id ${request.clientId} in the bank's portal (certrotor export gives its PEM), then run the rollback again`,
        details: { credentialId: request.credentialId, fingerprint: request.previous.fingerprint },
      },
    );
  }
  return registration === "manual" ? "portal" : "trusted-ca";
}
