/**
 * Reading and moving a secret's staging labels for the AWS store (aws.ts): the version a label is on, label
 * changes whose refusals are settled by reading where the label is now, and the consistency rules around
 * both (aws-consistency.ts: read your own label changes, confirm a read before refusing on it).
 */
import type { CertrotorError } from "../errors.js";
import type { AwsVersion, SecretsApi } from "./aws-client.js";
import type { Consistency } from "./aws-consistency.js";
import { isAwsCode, type StoreFailureCode, storeFailure } from "./aws-errors.js";
import type { CredentialRef } from "./types.js";

export const CURRENT = "AWSCURRENT";
export const PENDING = "AWSPENDING";
export const PREVIOUS = "AWSPREVIOUS";

export class SecretLabels {
  constructor(
    private readonly store: string,
    private readonly api: SecretsApi,
    readonly consistency: Consistency,
  ) {}

  failure(code: StoreFailureCode, ref: CredentialRef, what: string, hint?: string): CertrotorError {
    return storeFailure(code, this.store, ref, what, hint);
  }

  /**
   * The version carrying `stage`, or null when the secret exists without it. `secretSeen`: an earlier call of
   * the same operation already found the secret, so a ResourceNotFoundException can only mean "no such label".
   * Right after this store moved the label, a read that disagrees is repeated (read your own writes).
   */
  async byStage(ref: CredentialRef, stage: string, secretSeen = false): Promise<AwsVersion | null> {
    const expected = this.consistency.expectation(ref.path, stage);
    if (expected === undefined) return this.readStage(ref, stage, secretSeen);
    return this.consistency.settle(
      () => this.readStage(ref, stage, true),
      (version) => (version?.versionId ?? null) === expected,
    );
  }

  private async readStage(
    ref: CredentialRef,
    stage: string,
    secretSeen: boolean,
  ): Promise<AwsVersion | null> {
    try {
      return await this.api.getByStage(ref.path, stage);
    } catch (error) {
      if (secretSeen && isAwsCode(error, "ResourceNotFoundException")) return null;
      // "No such secret" and "no version with this label" are both ResourceNotFoundException, and a secret
      // scheduled for deletion is InvalidRequestException: DescribeSecret tells them apart without reading text.
      if (!isAwsCode(error, "ResourceNotFoundException", "InvalidRequestException")) throw error;
      if (await this.api.isScheduledForDeletion(ref.path)) {
        throw this.failure("NOT_FOUND", ref, "the secret is scheduled for deletion");
      }
      if (isAwsCode(error, "InvalidRequestException")) throw error;
      return null;
    }
  }

  /** AWSPENDING left on the current version (a promote interrupted between its two calls) is not pending. */
  async pendingVersion(ref: CredentialRef, secretSeen = false): Promise<AwsVersion | null> {
    const pending = await this.byStage(ref, PENDING, secretSeen);
    return pending === null || pending.stages.includes(CURRENT) ? null : pending;
  }

  /** The read, repeated while it would refuse (`fine` false) within the consistency window: confirm before refusing. */
  async confirmed<T>(read: () => Promise<T>, fine: (value: T) => boolean): Promise<T> {
    const first = await read();
    return fine(first) ? first : this.consistency.settle(read, fine);
  }

  async versionThatExists(ref: CredentialRef, versionId: string): Promise<AwsVersion> {
    const read = () =>
      this.api.getByVersion(ref.path, versionId).catch((error: unknown) => {
        if (isAwsCode(error, "ResourceNotFoundException")) return null;
        throw error;
      });
    const version = await this.confirmed(read, (found) => found !== null);
    if (version === null) throw this.failure("NOT_FOUND", ref, `version ${versionId} cannot be read`);
    return version;
  }

  casConflict(ref: CredentialRef, expected: string): CertrotorError {
    return this.failure("CAS_CONFLICT", ref, `the current version is no longer ${expected}`);
  }

  /**
   * Runs one label change. A refusal is settled by reading where the label sits now rather than by reading
   * AWS's text: after a lost answer the SDK retries, and the retry of a change that already landed is refused
   * (its RemoveFromVersionId no longer holds the label). `settled` says whether the label is where we wanted;
   * the read is repeated within the consistency window before the refusal is believed. Once done, the store
   * expects its later reads to see the label there.
   */
  async changeStage(
    ref: CredentialRef,
    stage: string,
    change: { to?: string; from?: string },
    settled: (holder: AwsVersion | null) => boolean,
    unsettled?: () => Error,
  ): Promise<void> {
    try {
      await this.api.updateStage(ref.path, stage, change);
    } catch (error) {
      if (!isAwsCode(error, "InvalidParameterException", "InvalidRequestException")) throw error;
      if (!settled(await this.confirmed(() => this.byStage(ref, stage, true), settled))) {
        throw unsettled?.() ?? error;
      }
    }
    this.consistency.wrote(ref.path, stage, change.to ?? null);
    // Moving AWSCURRENT moves AWSPREVIOUS to the version it left.
    if (stage === CURRENT && change.from !== undefined)
      this.consistency.wrote(ref.path, PREVIOUS, change.from);
  }

  /**
   * AWS has no compare-and-set on a secret's value, but UpdateSecretVersionStage fails unless
   * RemoveFromVersionId is the version holding the label, which makes this move a compare-and-set on the
   * AWSCURRENT label. What remains: (1) ABA: AWSCURRENT moved away and back to the same version between our
   * read and the move passes unnoticed; (2) AWS documents that a mismatch fails but not with which text, so a
   * refusal is settled by reading AWSCURRENT again: on our version, a retried call had already landed;
   * elsewhere, someone else won (CAS_CONFLICT).
   */
  moveCurrent(ref: CredentialRef, to: string, from: string): Promise<void> {
    return this.changeStage(
      ref,
      CURRENT,
      { to, from },
      (holder) => holder?.versionId === to,
      () => this.casConflict(ref, from),
    );
  }

  /** Removes AWSPENDING from `version` when it carries it. */
  async unlabelPending(ref: CredentialRef, version: AwsVersion): Promise<void> {
    if (!version.stages.includes(PENDING)) return;
    await this.changeStage(
      ref,
      PENDING,
      { from: version.versionId },
      (holder) => holder?.versionId !== version.versionId,
    );
  }
}
