/**
 * `certrotor rollback`: an operator puts the previous material back as current, e.g. when consumers break
 * on a new certificate the bank accepted. Under the credential's rotation lock (the one every worker and
 * `rotate --inline` takes), with every effect fenced by it:
 *  1. the previous material must be usable: present, not expired, its key its certificate's, and not the
 *     material an earlier rollback replaced (rolling "back" to it would undo the operator's own rollback);
 *  2. at a bank with a slot API, its certificate is bound again if it was unbound, and a token call proves
 *     it before anyone depends on it (invariant 1: what is current is always bound);
 *  3. it becomes current by compare-and-set against the version read in 1, so a rotation that promoted
 *     meanwhile is never overwritten.
 * The certificate being rolled away from stays bound (consumers may still hold it); the retire sweep
 * never unbinds what is current, and the next rotation frees its slot as a stale certificate of ours.
 * The saga's own rollback after a failed rotation (rotation/rollback.ts) undoes a pending rotation; this
 * one undoes a promoted one.
 */
import { assertKeyMatchesCertificate, inspectCertificate } from "../crypto/index.js";
import { CertrotorError } from "../errors.js";
import { secretShape } from "../journal/guard.js";
import { fencedJournal } from "../journal/types.js";
import type { ResolvedCredential } from "../rotation/credentials.js";
import { fenced } from "../rotation/fence.js";
import { acquireRotationLock, OPERATOR_LOCK_WAIT_MS } from "../rotation/lock.js";
import type { Runtime } from "../runtime.js";
import type { StoredMaterial } from "../stores/types.js";
import { type RestoredBinding, restoreBinding, undoCutOver } from "./rollback-bank.js";
import { newWriteId, writeCurrent } from "./write-current.js";

export interface OperatorRollbackResult {
  rollbackId: string;
  restoredFingerprint: string;
  restoredNotAfter: string;
  replacedFingerprint: string;
  /** How the previous certificate is bound at the bank (rollback-bank.ts). */
  binding: RestoredBinding;
}

function noPrevious(credential: ResolvedCredential, why: string): CertrotorError {
  return new CertrotorError("NO_PREVIOUS", `credential "${credential.id}": ${why}; nothing was changed`, {
    hint: "rollback restores the material that was current before the last promote; to replace the current material use certrotor rotate or certrotor import",
    details: { credentialId: credential.id },
  });
}

/** The previous material, when it may become current again; NO_PREVIOUS saying why not otherwise. */
function usablePrevious(
  credential: ResolvedCredential,
  current: StoredMaterial,
  previous: StoredMaterial | null,
  now: Date,
): StoredMaterial {
  if (!previous) throw noPrevious(credential, "the store holds no previous material");
  const writer = current.material.rotationId;
  if (writer?.startsWith("rollback-")) {
    throw noPrevious(
      credential,
      `the current material was put back by ${writer}, and the previous one is what that rollback replaced`,
    );
  }
  if (previous.material.fingerprint === current.material.fingerprint)
    throw noPrevious(credential, "the previous material holds the current certificate");
  const info = inspectCertificate(previous.material.certPem, "previous certificate");
  if (info.notAfter <= now)
    throw noPrevious(credential, `the previous certificate expired at ${info.notAfter.toISOString()}`);
  assertKeyMatchesCertificate(previous.material.keyPem, previous.material.certPem, "previous material");
  return previous;
}

/**
 * BAD_ARGUMENT for a missing reason, or for audit text that looks like secret material: the journal would
 * refuse it after the bank and the store had changed, so every entry point (the CLI's flags, the console's
 * form) checks it first. `fields` are [label, text] pairs, the reason first.
 */
export function checkRollbackText(fields: ReadonlyArray<readonly [label: string, text: string]>): void {
  const [reasonLabel, reason] = fields[0] ?? ["reason", ""];
  if (!reason.trim())
    throw new CertrotorError("BAD_ARGUMENT", `${reasonLabel}: give a reason for the audit trail`, {
      hint: 'e.g. "consumers fail with the new certificate"',
    });
  for (const [label, text] of fields) {
    const why = secretShape(text);
    if (why)
      throw new CertrotorError("BAD_ARGUMENT", `${label}: the text looks like secret material (${why})`, {
        hint: "the audit trail keeps this text: write a reason in words, with no key, token or secret",
      });
  }
}

export async function rollbackCredential(
  runtime: Pick<Runtime, "depsFor" | "now" | "config">,
  credential: ResolvedCredential,
  options: { reason: string; operator: string },
): Promise<OperatorRollbackResult> {
  const deps = runtime.depsFor(credential);
  const check = async (): Promise<{ current: StoredMaterial; previous: StoredMaterial }> => {
    const current = await deps.store.readCurrent(credential.ref);
    const previous = await deps.store.readPrevious(credential.ref);
    return { current, previous: usablePrevious(credential, current, previous, runtime.now()) };
  };
  // refused before the lock too: taking it advances its fencing counter, and a refusal changes nothing
  await check();
  const lock = await acquireRotationLock(deps, credential.id, OPERATOR_LOCK_WAIT_MS);
  const holder = { lock };
  try {
    const journal = fencedJournal(deps.journal, lock.lease);
    const { current, previous } = await check();
    const material = previous.material;
    const clientId = current.material.clientId || credential.clientId;
    const request = { credentialId: credential.id, clientId, previous: material, current: current.material };
    const binding = await restoreBinding(deps, holder, runtime.config.banks[credential.bank], request);
    const rollbackId = newWriteId("rollback");
    try {
      await fenced(holder, () => writeCurrent(deps.store, credential.ref, material, rollbackId, current));
    } catch (error) {
      // after a cut-over only the previous certificate is bound: put the current one back, it stays current
      if (binding === "cut-over") await undoCutOver(deps, request);
      throw error;
    }
    await journal.audit({
      at: runtime.now().toISOString(),
      credentialId: credential.id,
      rotationId: rollbackId,
      action: "rolled-back",
      actor: "operator",
      details: {
        fingerprint: material.fingerprint,
        replaced: current.material.fingerprint,
        operator: options.operator,
        reason: options.reason,
        binding,
      },
    });
    return {
      rollbackId,
      restoredFingerprint: material.fingerprint,
      restoredNotAfter: material.notAfter,
      replacedFingerprint: current.material.fingerprint,
      binding,
    };
  } finally {
    await lock.release();
  }
}
