/**
 * What a rotation job alerts on. A final failure opens its episode (rotation-failed, or the more precise
 * verify-failed-rolled-back / slots-full) and queues one alert with the typed error code and its hint;
 * the same failure again alerts nothing until a success resolves the credential's open episodes.
 * Alerting never changes a rotation's outcome: its own failures are logged, not thrown.
 */
import { X509Certificate } from "node:crypto";
import { type CertrotorError, toCertrotorError } from "../errors.js";
import type { RotationRecord } from "../journal/types.js";
import type { Logger } from "../observability/logger.js";
import type { RotationObserver, RotationOutcome } from "../rotation/context.js";
import type { ResolvedCredential } from "../rotation/credentials.js";
import type { FailureReport } from "../rotation/fail.js";
import type { SecretStore } from "../stores/types.js";
import type { HumanTask } from "../tasks/types.js";
import type { EpisodeKind } from "./episodes.js";
import { type AlertFacts, notifySuccess, type RaiseDeps, raiseAlert, resolveAlerts } from "./raise.js";

export interface RotationAlertDeps extends RaiseDeps {
  logger: Logger;
  /** alerts.notifyOnSuccess */
  notifyOnSuccess: boolean;
}

/** Subject, fingerprint and notAfter of the current certificate; empty when it cannot be read. */
export async function certificateFacts(
  store: SecretStore,
  credential: ResolvedCredential,
): Promise<Pick<AlertFacts, "subject" | "fingerprint" | "notAfter" | "clientId">> {
  try {
    const current = await store.readCurrent(credential.ref);
    const cert = new X509Certificate(current.material.certPem);
    return {
      clientId: current.material.clientId || credential.clientId,
      subject: cert.subject.replaceAll("\n", ", "),
      fingerprint: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
      notAfter: new Date(cert.validTo).toISOString(),
    };
  } catch {
    return credential.clientId ? { clientId: credential.clientId } : {};
  }
}

export function failureKind(error: CertrotorError, record: RotationRecord | null): EpisodeKind {
  if (error.code === "SLOTS_FULL") return "slots-full";
  if (record?.step === "verify") return "verify-failed-rolled-back";
  return "rotation-failed";
}

async function guarded(
  deps: { logger: Logger },
  what: string,
  credentialId: string,
  run: () => Promise<void>,
) {
  try {
    await run();
  } catch (thrown) {
    const error = toCertrotorError(thrown);
    deps.logger.error({ credentialId, err: { code: error.code, message: error.message } }, `${what} failed`);
  }
}

export async function alertRotationFailed(
  deps: RotationAlertDeps,
  input: {
    credential: ResolvedCredential;
    store: SecretStore;
    rotationId: string;
    record: RotationRecord | null;
    error: CertrotorError;
  },
): Promise<void> {
  const { credential, record, error } = input;
  await guarded(deps, "raising the rotation failure alert", credential.id, async () => {
    const kind = failureKind(error, record);
    const raised = await raiseAlert(deps, credential.id, kind, {
      ...(await certificateFacts(input.store, credential)),
      rotationId: input.rotationId,
      ...(record?.step ? { step: record.step } : {}),
      errorCode: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    });
    if (!raised)
      deps.logger.info(
        { credentialId: credential.id, kind },
        "alert episode already open: not alerting again",
      );
  });
}

export async function alertRotationSucceeded(
  deps: RotationAlertDeps,
  input: { credential: ResolvedCredential; store: SecretStore; rotationId: string; status: string },
): Promise<void> {
  const { credential, rotationId } = input;
  await guarded(deps, "resolving alerts after a rotation", credential.id, async () => {
    const facts = { ...(await certificateFacts(input.store, credential)), rotationId };
    await resolveAlerts(
      deps,
      credential.id,
      `the credential rotated successfully (rotation ${rotationId})`,
      facts,
    );
    if (deps.notifyOnSuccess) {
      await notifySuccess(deps, credential.id, {
        ...facts,
        message: `the credential rotated to a new certificate (rotation ${rotationId}, ${input.status})`,
      });
    }
  });
}

/** The old certificate is still used past the idle bound, so it stays bound: ops hear of it once. */
export async function alertConsumersOnOldCert(
  deps: RaiseDeps & { logger: Logger },
  credential: ResolvedCredential,
  record: RotationRecord,
): Promise<void> {
  await guarded(deps, "raising the consumers-on-old-cert alert", credential.id, async () => {
    await raiseAlert(deps, credential.id, "consumers-on-old-cert", {
      rotationId: record.rotationId,
      ...(credential.clientId ? { clientId: credential.clientId } : {}),
      ...(record.oldFingerprint ? { fingerprint: record.oldFingerprint } : {}),
      errorCode: "CONSUMERS_ON_OLD_CERT",
      message: record.errorMessage ?? "the old certificate is still in use",
      ...(record.hint ? { hint: record.hint } : {}),
    });
  });
}

/**
 * Tells consumers of a single-slot bank's cut-over: one notice right before the old certificate is
 * unbound, one once the new one verified and was promoted (with the measured outage). An observer of
 * the rotation, so a failure to queue is logged, never the rotation's.
 */
export function cutOverAlerts(deps: RaiseDeps, credential: ResolvedCredential): RotationObserver {
  return async (event) => {
    if (event.kind !== "cut-over") return;
    const message =
      event.phase === "started"
        ? `cut-over starts: the old certificate ${event.oldFingerprint.slice(0, 16)}… is being unbound; the bank answers no certificate until the new one ${event.newFingerprint.slice(0, 16)}… is bound and verified`
        : `cut-over done in ${event.outageMs ?? 0} ms: the new certificate ${event.newFingerprint.slice(0, 16)}… works; reload the credential`;
    await deps.sink.enqueueNotify({
      kind: "cut-over",
      episode: `certrotor/${credential.id}/cut-over-${event.phase}`,
      credentialId: credential.id,
      rotationId: event.rotationId,
      ...(credential.clientId ? { clientId: credential.clientId } : {}),
      fingerprint: event.newFingerprint,
      message,
      at: deps.now().toISOString(),
    });
  };
}

/** What the person is asked to do, in one line. */
export function taskInstruction(task: HumanTask): string {
  const where = task.portalUrl ? ` at ${task.portalUrl}` : " in the bank's portal";
  switch (task.kind) {
    case "bind-certificate":
      return `bind the new certificate ${task.fingerprint?.slice(0, 16)}… to client_id ${task.clientId}${where}`;
    case "unbind-certificate":
      return `unbind the old certificate ${task.fingerprint?.slice(0, 16)}… from client_id ${task.clientId}${where}`;
    case "sign-csr":
      return `upload the CSR of client_id ${task.clientId}${where}, then give certrotor the signed certificate (certrotor task complete ${task.id} --cert FILE)`;
  }
}

/** A human task opened (a rotation parked on it): the manual-task episode alerts once. */
export async function alertTaskOpened(
  deps: RaiseDeps & { logger: Logger },
  credential: ResolvedCredential,
  task: HumanTask,
): Promise<void> {
  await guarded(deps, "raising the manual-task alert", credential.id, async () => {
    await raiseAlert(deps, credential.id, "manual-task", {
      rotationId: task.rotationId,
      clientId: task.clientId,
      ...(task.fingerprint ? { fingerprint: task.fingerprint } : {}),
      ...(task.notAfter ? { notAfter: task.notAfter } : {}),
      taskId: task.id,
      ...(task.portalUrl ? { portalUrl: task.portalUrl } : {}),
      deadline: task.deadline,
      message: `task ${task.id}: ${taskInstruction(task)}, by ${task.deadline}`,
      hint: "certrotor task show shows the task with its certificate; the rotation goes on by itself once the bank accepts it",
    });
  });
}

/**
 * What a rotation that reached an outcome alerts on, for the rotate job and `rotate --inline` alike: a
 * promotion resolves the credential's open episodes (and, when the old cert stays bound because consumers
 * still use it, raises that). Failures are alerted by failRotation (rotation/fail.ts) under the lease.
 */
export async function alertRotationOutcome(
  deps: RotationAlertDeps,
  input: { credential: ResolvedCredential; store: SecretStore; rotationId: string; outcome: RotationOutcome },
): Promise<void> {
  const { credential, rotationId, outcome } = input;
  if (outcome.status === "not-due" || outcome.status === "finished") return;
  if (outcome.status === "awaiting-registration") {
    await alertTaskOpened(deps, credential, outcome.task);
    return;
  }
  await alertRotationSucceeded(deps, { credential, store: input.store, rotationId, status: outcome.status });
  if (outcome.status === "retire-due" && outcome.task?.status === "open")
    await alertTaskOpened(deps, credential, outcome.task);
  if (outcome.status === "consumers-on-old-cert")
    await alertConsumersOnOldCert(deps, credential, outcome.record);
}

/** The alert handler of failRotation: the failure's episode, with the error's code and hint. */
export function failureAlert(
  deps: RotationAlertDeps,
  store: SecretStore,
): (report: FailureReport) => Promise<void> {
  return (report) =>
    alertRotationFailed(deps, {
      credential: report.credential,
      store,
      rotationId: report.rotationId,
      record: report.record,
      error: report.error,
    });
}
