/**
 * `rotate --dry-run`: what a rotation of this credential would do now, step by step and why, from
 * read-only calls only: the store (current and pending material), the renewal policy, the CSR profile
 * (built in memory with a throwaway key, to prove the subject and SANs can be copied), the issuer's
 * pre-flight, the bank's slot list (through the same slot decision register makes) and the grace period.
 * It takes no lock (a lock is a write to the shared state) and writes nothing anywhere.
 */
import { requireSlots } from "../bank/capabilities.js";
import { formatDuration } from "../config/duration.js";
import type { BankConfig } from "../config/schema.js";
import {
  assertKeyMatchesCertificate,
  createCsrFromCertificate,
  generateKeyPair,
  inspectCertificate,
} from "../crypto/index.js";
import { type CertrotorError, toCertrotorError } from "../errors.js";
import type { RotationDeps } from "./context.js";
import type { ResolvedCredential } from "./credentials.js";
import { decideRenewal } from "./policy.js";
import { slotsToFree } from "./steps/register.js";

export interface DryRunStep {
  step: string;
  says: string;
}

export interface DryRunPlan {
  steps: DryRunStep[];
  /** The first thing that would stop the rotation, where the plan stops. */
  refusal?: CertrotorError;
}

const short = (fingerprint: string): string => `${fingerprint.slice(0, 16)}…`;

type DryRunOptions = { force: boolean; bank?: Pick<BankConfig, "registration" | "maxSlots"> };

/** What register would do, by the bank's registration; the slot decision is register's own. */
async function registerStep(
  deps: RotationDeps,
  credential: ResolvedCredential,
  options: DryRunOptions,
  clientId: string,
  oldFingerprint: string,
): Promise<string> {
  const registration = options.bank?.registration ?? "api";
  if (registration === "manual")
    return `bank "${credential.bank}" has registration manual: a person binds the new certificate to client_id ${clientId} in the bank's portal`;
  if (registration === "none")
    return `bank "${credential.bank}" has registration none: it trusts the issuing CA, nothing to bind`;
  const slots = await requireSlots(deps.bank).listSlots(clientId);
  const single = (options.bank?.maxSlots ?? 2) === 1;
  const policy = options.force ? { ...credential.policy, unbindStaleOwnCerts: true } : credential.policy;
  const request = { rotationId: "dry-run", credential: { ...credential, policy }, oldFingerprint };
  const freed = single ? [] : await slotsToFree(deps, request, slots);
  const freeing =
    freed.length > 0
      ? `; ${freed.map((s) => short(s.fingerprint)).join(", ")} (a stale one certrotor issued) would be unbound to free a slot`
      : "";
  return `bank "${credential.bank}" holds ${slots.length} certificate(s) for client_id ${clientId}${freeing}; ${single ? "single slot: a cut-over unbinds the current certificate and binds the new one" : "the new certificate is bound beside the current one"}`;
}

export async function dryRun(
  deps: RotationDeps,
  credential: ResolvedCredential,
  options: DryRunOptions,
): Promise<DryRunPlan> {
  const steps: DryRunStep[] = [];
  const say = (step: string, says: string): void => void steps.push({ step, says });
  try {
    const current = await deps.store.readCurrent(credential.ref);
    const info = inspectCertificate(current.material.certPem);
    assertKeyMatchesCertificate(current.material.keyPem, current.material.certPem, "current material");
    say(
      "plan",
      `current certificate ${short(info.fingerprint)} (store "${credential.store}" version ${current.version}), valid until ${info.notAfter.toISOString()}; its key matches`,
    );
    if (!current.material.clientSecret)
      say(
        "plan",
        "the stored material has no client secret: the rotation would be refused (MATERIAL_INVALID)",
      );
    const decision = decideRenewal({
      credentialId: credential.id,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      policy: credential.policy,
      now: deps.now(),
      scheduled: false,
    });
    say(
      "plan",
      `renewal policy: ${decision.status} (${decision.message}); an on-demand rotation runs whatever it says`,
    );
    const pending = await deps.store.readPending(credential.ref);
    if (pending)
      say(
        "plan",
        `pending material of rotation ${pending.rotationId} (${short(pending.material.fingerprint)}): resumed if it is the unfinished rotation, else rolled back first (its certificate unbound, its key dropped)`,
      );
    const { keyPem } = await generateKeyPair(credential.keyType);
    await createCsrFromCertificate(current.material.certPem, keyPem);
    say(
      "generate",
      `a new ${credential.keyType} key; the CSR copies subject "${info.subject}"${info.sans.length > 0 ? ` and SANs ${info.sans.join(", ")}` : " (no SANs)"} byte for byte`,
    );
    await deps.issuer.check();
    say("issue", `issuer "${deps.issuer.name}" (${deps.issuer.kind}) signs it: its pre-flight passed`);
    say(
      "stage",
      `the new key, certificate and chain${credential.pfx ? " and a PKCS#12" : ""} written as pending at "${credential.ref.path}" (consumers do not see it)`,
    );
    const clientId = current.material.clientId || credential.clientId;
    say("register", await registerStep(deps, credential, options, clientId, info.fingerprint));
    say(
      "verify",
      `a token call at bank "${credential.bank}" with the new key and certificate proves it before anyone uses it`,
    );
    say(
      "promote",
      `the pending material becomes current if current is still version ${current.version} (compare-and-set)`,
    );
    const grace = credential.policy.gracePeriod;
    say(
      "retire",
      grace > 0
        ? `certificate ${short(info.fingerprint)} stays bound for the grace period (${formatDuration(grace)}), then is unbound`
        : `certificate ${short(info.fingerprint)} is unbound right after promote (gracePeriod 0)`,
    );
    return { steps };
  } catch (thrown) {
    return { steps, refusal: toCertrotorError(thrown) };
  }
}
