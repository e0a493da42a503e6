/**
 * What an operator can do from the console: rotate now and retry, both enqueued for the workers exactly as
 * `certrotor rotate` (without --inline) does, and recorded in the audit trail with the operator's name as
 * the actor. Rollback of a promoted rotation is not queued: it runs in the console (pages/rollback.ts).
 */
import { CertrotorError } from "../errors.js";
import type { Journal } from "../journal/types.js";
import type { Producer } from "../queue/producer.js";
import { jobReference, type ResolvedCredential } from "../rotation/credentials.js";
import type { CredentialStatus } from "../rotation/status.js";

export const ACTIONS = {
  rotate: { label: "Rotate now", confirm: "Start a rotation of this credential now, outside its schedule?" },
  retry: { label: "Retry", confirm: "Retry the rotation of this credential that failed?" },
} as const;
export type ActionName = keyof typeof ACTIONS;

export const isActionName = (name: string): name is ActionName => Object.hasOwn(ACTIONS, name);

/** Rotate always; retry when the latest rotation failed or was rolled back. */
export function actionsFor(status: Pick<CredentialStatus, "rotations">): ActionName[] {
  const latest = status.rotations[0];
  const failed = latest?.status === "failed" || latest?.status === "rolled-back";
  return failed ? ["retry", "rotate"] : ["rotate"];
}

export interface ActionDeps {
  journal: Journal;
  /** Absent without redis: (no queue to enqueue into). */
  producer?: Producer;
  now: () => Date;
}

export interface ActionResult {
  rotationId: string;
  jobId: string;
  /** False when a rotation of the credential was already queued or running (nothing added). */
  added: boolean;
}

export async function runAction(
  deps: ActionDeps,
  action: ActionName,
  credential: ResolvedCredential,
  operator: string,
): Promise<ActionResult> {
  if (!deps.producer) {
    throw new CertrotorError(
      "CONSOLE_NO_QUEUE",
      `${ACTIONS[action].label}: the config has no redis: section, so there is no queue for the workers`,
      {
        hint: "configure redis: and run `certrotor worker`, or run `certrotor rotate --inline` on the host",
      },
    );
  }
  const queued = await deps.producer.enqueueRotate({
    ...jobReference(credential),
    trigger: "operator",
    attempts: credential.policy.attempts,
  });
  if (queued.added) {
    await deps.journal.audit({
      at: deps.now().toISOString(),
      credentialId: credential.id,
      rotationId: queued.rotationId,
      action: "rotation-requested",
      actor: operator,
      details: { via: "console", action },
    });
  }
  return queued;
}
