/**
 * issue at a bank whose portal signs (issuer kind bank-portal, seed 000): the new key is written as
 * pending first (under a placeholder certificate from a throwaway CA, never bound or trusted anywhere),
 * so it outlives this process while a person uploads the CSR; then a sign-csr task carries the CSR
 * (public) and the rotation parks. `certrotor task complete <task> --cert FILE` (completeSignTask)
 * checks the certificate against the pending key, the subject, clientAuth and the bank's CA, replaces
 * the placeholder with it, and closes the task; the parked rotation then goes on from register.
 */
import { createCa, createCsrFromCertificate, signClientCsr } from "../../crypto/index.js";
import { verifyCsrDetails } from "../../crypto/csr.js";
import { CertrotorError, toCertrotorError } from "../../errors.js";
import { checkIssuedCertificate } from "../../issuers/check.js";
import type { PendingMaterial } from "../../stores/types.js";
import type { HumanTask } from "../../tasks/types.js";
import type { FreshPlan, Generated, HeldLock, RotationDeps } from "../context.js";
import type { ResolvedCredential } from "../credentials.js";
import { fenced } from "../fence.js";
import { openTask, taskDeadline, updateTask } from "../tasks.js";
import { stagedMaterial, stageTargetOf } from "./stage.js";

export function signsInPortal(deps: Pick<RotationDeps, "issuer">): boolean {
  return deps.issuer.kind === "bank-portal";
}

const DAY = 86_400_000;

/** A certificate for the generated key that only holds it in the store until the real one comes. */
async function placeholderFor(generated: Generated, now: Date): Promise<string> {
  const ca = await createCa({
    subject: "CN=certrotor placeholder (awaiting the bank's portal),O=certrotor",
    keyType: "p256",
    validityMs: 2 * 365 * DAY,
    now,
  });
  return signClientCsr({
    csrPem: generated.csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: 2 * 365 * DAY,
    notBefore: now,
    notAfter: new Date(now.getTime() + 2 * 365 * DAY),
  });
}

/** Stages the key under its placeholder (fenced). The PFX waits for the real certificate. */
export async function stageKeyForSigning(
  deps: RotationDeps,
  planned: FreshPlan,
  generated: Generated,
): Promise<void> {
  const certPem = await placeholderFor(generated, deps.now());
  const material = stagedMaterial(stageTargetOf(planned), { ...generated, certPem, chainPem: "" }, false);
  await fenced(planned, () => deps.store.writePending(planned.credential.ref, planned.rotationId, material));
}

/** The rotation's sign-csr task (opened once; its CSR rebuilt from the pending key on a rerun). */
export async function signTask(
  deps: RotationDeps,
  planned: FreshPlan,
  pending: { keyPem: string },
): Promise<HumanTask> {
  const csrPem = await createCsrFromCertificate(planned.current.material.certPem, pending.keyPem);
  return openTask(deps, planned, {
    kind: "sign-csr",
    rotationId: planned.rotationId,
    clientId: planned.clientId,
    deadline: taskDeadline(deps, planned.currentInfo.notAfter).toISOString(),
    csrPem,
  });
}

function rejected(task: HumanTask, why: string): CertrotorError {
  return new CertrotorError(
    "TASK_CERT_REJECTED",
    `task ${task.id}: the certificate is refused: ${why}; nothing was changed`,
    {
      hint: "give the certificate the bank's portal signed for this task's CSR (certrotor task show prints the CSR)",
      details: { taskId: task.id },
    },
  );
}

/**
 * `task complete <sign-csr task> --cert`: under the credential's lock, checks `certPem` against the
 * rotation's pending key, the CSR's subject, clientAuth and the bank's CA, then stages it (with its PFX)
 * in place of the placeholder and closes the task. TASK_CERT_REJECTED with nothing changed otherwise.
 */
export async function completeSignTask(
  deps: RotationDeps,
  credential: ResolvedCredential,
  task: HumanTask,
  lock: HeldLock,
  signed: { certPem: string; chainPem?: string },
  actor: string,
): Promise<HumanTask> {
  const pending: PendingMaterial | null = await deps.store.readPending(credential.ref);
  if (!pending || pending.rotationId !== task.rotationId)
    throw rejected(task, `rotation ${task.rotationId} has no pending key in the store any more`);
  const csr = verifyCsrDetails(task.csrPem ?? "", `task ${task.id} CSR`);
  const issued = { certPem: signed.certPem, chainPem: signed.chainPem ?? "" };
  try {
    checkIssuedCertificate({
      issued,
      keyPem: pending.material.keyPem,
      expectedSubjectDer: csr.subject,
      expectedSubject: csr.subjectText,
      subjectMatch: "exact",
      trustBundlePem: await deps.issuer.trustBundle(),
      now: deps.now(),
      where: `task ${task.id}`,
    });
  } catch (error) {
    const coded = toCertrotorError(error);
    if (coded.code === "CONFIG_NOT_FOUND" || coded.code === "INTERNAL") throw coded;
    throw rejected(task, `${coded.code}: ${coded.message}`);
  }
  const holder = { lock, credential };
  const { clientSecret } = pending.material;
  const material = stagedMaterial(
    {
      credential,
      rotationId: task.rotationId,
      clientId: pending.material.clientId,
      ...(clientSecret !== undefined ? { clientSecret } : {}),
    },
    { ...issued, keyPem: pending.material.keyPem, csrPem: task.csrPem ?? "" },
  );
  await fenced(holder, () => deps.store.writePending(credential.ref, task.rotationId, material));
  await deps.journal.audit({
    at: deps.now().toISOString(),
    credentialId: credential.id,
    rotationId: task.rotationId,
    action: "issued",
    actor: "operator",
    details: { issuer: credential.issuer, fingerprint: material.fingerprint, by: actor, taskId: task.id },
  });
  const at = deps.now().toISOString();
  return updateTask(deps, holder, task, {
    status: "done",
    closedAt: at,
    closedBy: actor,
    note: "the certificate signed in the bank's portal was checked and staged",
    certPem: material.certPem,
    fingerprint: material.fingerprint,
    notAfter: material.notAfter,
  });
}
