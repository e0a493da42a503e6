/**
 * Secret store on AWS Secrets Manager, using the service's own rotation model:
 *
 * - current  = the version labelled AWSCURRENT (store version = its VersionId);
 * - pending  = PutSecretValue with VersionStages ["AWSPENDING"] and a ClientRequestToken derived from the
 *              rotation id (aws-model.ts), so a retried stage is the same version (the service ignores a
 *              repeated token with the same value); the document carries `rotationId`;
 * - promote  = UpdateSecretVersionStage moving AWSCURRENT to the pending version (the service labels the old
 *              current AWSPREVIOUS), then removing AWSPENDING from it;
 * - previous = AWSPREVIOUS; list = ListSecrets with name / tag filters, cursor = NextToken.
 *
 * IAM actions used: GetSecretValue, PutSecretValue, UpdateSecretVersionStage, DescribeSecret, ListSecrets.
 * The SDK itself is only touched in aws-client.ts.
 */
import type { AwsStoreConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { type AwsVersion, createSecretsApi, type SecretsApi } from "./aws-client.js";
import { isAwsCode, mapAwsFailure, type StoreFailureCode, storeFailure } from "./aws-errors.js";
import {
  clientRequestToken,
  decodeCursor,
  listFilters,
  overwriteToken,
  pageOf,
  parseDocument,
  rotationIdOf,
  unmanagedKeys,
} from "./aws-model.js";
import { decodeMaterial, encodeMaterial, sameMaterial } from "./material.js";
import type {
  CredentialRef,
  ListOptions,
  ListPage,
  Material,
  PendingMaterial,
  SecretStore,
  StoredMaterial,
} from "./types.js";

export { clientRequestToken } from "./aws-model.js";

const CURRENT = "AWSCURRENT";
const PENDING = "AWSPENDING";
const PREVIOUS = "AWSPREVIOUS";

export interface AwsStoreOptions {
  /** Receives one object per AWS call: store, operation, path, outcome, ms, attempts. Never values or keys. */
  logger?: (line: object) => void;
}

class AwsSecretStore implements SecretStore {
  readonly kind = "aws" as const;

  constructor(
    readonly name: string,
    private readonly api: SecretsApi,
    /** Configured secrets that must never reach a message. */
    private readonly scrub: string[],
  ) {}

  /** Public-method boundary: every failure leaves as a CertrotorError. */
  private async guard<T>(ref: CredentialRef | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapAwsFailure(error, { store: this.name, ...(ref ? { path: ref.path } : {}), scrub: this.scrub });
    }
  }

  private failure(code: StoreFailureCode, ref: CredentialRef, what: string, hint?: string): CertrotorError {
    return storeFailure(code, this.name, ref, what, hint);
  }

  /**
   * The version carrying `stage`, or null when the secret exists without it. `secretSeen`: an earlier call of
   * the same operation already found the secret, so a ResourceNotFoundException can only mean "no such label".
   */
  private async byStage(ref: CredentialRef, stage: string, secretSeen = false): Promise<AwsVersion | null> {
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
  private async pendingVersion(ref: CredentialRef, secretSeen = false): Promise<AwsVersion | null> {
    const pending = await this.byStage(ref, PENDING, secretSeen);
    return pending === null || pending.stages.includes(CURRENT) ? null : pending;
  }

  private stored(ref: CredentialRef, version: AwsVersion): StoredMaterial {
    const { material, extra } = decodeMaterial(parseDocument(ref, version.secretString), ref);
    return { material, version: version.versionId, extra };
  }

  readCurrent(ref: CredentialRef): Promise<StoredMaterial> {
    return this.guard(ref, async () => {
      const current = await this.byStage(ref, CURRENT);
      if (current === null) throw this.failure("NOT_FOUND", ref, "the secret has no current value");
      return this.stored(ref, current);
    });
  }

  readPrevious(ref: CredentialRef): Promise<StoredMaterial | null> {
    return this.guard(ref, async () => {
      const previous = await this.byStage(ref, PREVIOUS);
      return previous === null ? null : this.stored(ref, previous);
    });
  }

  readPending(ref: CredentialRef): Promise<PendingMaterial | null> {
    return this.guard(ref, async () => {
      const pending = await this.pendingVersion(ref);
      if (pending === null) return null;
      const rotationId = rotationIdOf(pending.secretString, ref);
      if (rotationId === undefined) throw this.foreignPending(ref, pending);
      return { ...this.stored(ref, pending), rotationId };
    });
  }

  private foreignPending(ref: CredentialRef, pending: AwsVersion): CertrotorError {
    return this.failure(
      "PENDING_CONFLICT",
      ref,
      `AWSPENDING (version ${pending.versionId}) was not staged by certrotor`,
      "finish or cancel the other rotation, or drop the pending label",
    );
  }

  writePending(ref: CredentialRef, rotationId: string, material: Material): Promise<StoredMaterial> {
    return this.guard(ref, async () => {
      const current = await this.byStage(ref, CURRENT);
      const extra = current === null ? {} : unmanagedKeys(ref, current.secretString);
      const pending = await this.pendingVersion(ref, true);
      const owner = pending === null ? undefined : rotationIdOf(pending.secretString, ref);
      if (pending !== null && owner === undefined) throw this.foreignPending(ref, pending);
      if (owner !== undefined && owner !== rotationId) {
        throw this.failure("PENDING_CONFLICT", ref, `rotation ${owner} already has material pending`);
      }
      const staged: Material = { ...material, rotationId };
      const doc = JSON.stringify(encodeMaterial(staged, ref.fieldMap, extra));
      const versionId = await this.stage(ref, rotationId, staged, doc, pending?.versionId);
      return { material: staged, version: versionId, extra };
    });
  }

  /** PutSecretValue under the rotation's token; a changed document for the same rotation gets its own token. */
  private async stage(
    ref: CredentialRef,
    rotationId: string,
    staged: Material,
    doc: string,
    pendingId?: string,
  ): Promise<string> {
    let put: { versionId: string; stages: string[] };
    try {
      put = await this.api.put(ref.path, clientRequestToken(rotationId), doc, [PENDING]);
    } catch (error) {
      if (!isAwsCode(error, "ResourceExistsException")) throw error;
      // The token is taken by a version of this rotation holding other data (other material, or other
      // unmanaged keys).
      const existing = await this.api.getByVersion(ref.path, clientRequestToken(rotationId));
      const same = sameMaterial(this.stored(ref, existing).material, staged);
      if (existing.stages.includes(CURRENT) && !same) {
        throw this.failure(
          "PENDING_CONFLICT",
          ref,
          `rotation ${rotationId} was already promoted with other material`,
        );
      }
      put = same ? existing : await this.api.put(ref.path, overwriteToken(rotationId, doc), doc, [PENDING]);
    }
    // A repeated token with the same value is ignored by the service, labels included: re-attach AWSPENDING
    // when this version lost it (dropped earlier), unless it is already current (promoted: nothing to stage).
    if (!put.stages.includes(PENDING) && !put.stages.includes(CURRENT)) {
      const from = pendingId !== undefined && pendingId !== put.versionId ? pendingId : undefined;
      const to = put.versionId;
      await this.changeStage(
        ref,
        PENDING,
        { to, ...(from ? { from } : {}) },
        (holder) => holder?.versionId === to,
      );
    }
    return put.versionId;
  }

  promote(ref: CredentialRef, rotationId: string, expectedCurrentVersion: string): Promise<StoredMaterial> {
    return this.guard(ref, async () => {
      const current = await this.byStage(ref, CURRENT);
      if (current !== null && rotationIdOf(current.secretString, ref) === rotationId) {
        await this.unlabelPending(ref, current); // done before: finish a promote cut between its two calls
        return this.stored(ref, current);
      }
      if (current?.versionId !== expectedCurrentVersion) throw this.casConflict(ref, expectedCurrentVersion);
      const pending = await this.pendingVersion(ref, true);
      if (pending === null || rotationIdOf(pending.secretString, ref) !== rotationId) {
        throw this.failure("NOT_FOUND", ref, `no material of rotation ${rotationId} is pending`);
      }
      const promoted = this.stored(ref, pending); // decode before moving labels: never promote garbage
      await this.moveCurrent(ref, pending.versionId, expectedCurrentVersion);
      await this.unlabelPending(ref, pending);
      return promoted;
    });
  }

  private casConflict(ref: CredentialRef, expected: string): CertrotorError {
    return this.failure("CAS_CONFLICT", ref, `the current version is no longer ${expected}`);
  }

  /**
   * Runs one label change. A refusal is settled by reading where the label sits now rather than by reading
   * AWS's text: after a lost answer the SDK retries, and the retry of a change that already landed is refused
   * (its RemoveFromVersionId no longer holds the label). `settled` says whether the label is where we wanted.
   */
  private async changeStage(
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
      if (!settled(await this.byStage(ref, stage))) throw unsettled?.() ?? error;
    }
  }

  /**
   * AWS has no compare-and-set on a secret's value, but UpdateSecretVersionStage fails unless
   * RemoveFromVersionId is the version holding the label, which makes this move a compare-and-set on the
   * AWSCURRENT label. What remains: (1) ABA: AWSCURRENT moved away and back to the same version between our
   * read and the move passes unnoticed; (2) AWS documents that a mismatch fails but not with which text, so a
   * refusal is settled by reading AWSCURRENT again: on our version, a retried call had already landed;
   * elsewhere, someone else won (CAS_CONFLICT).
   */
  private moveCurrent(ref: CredentialRef, to: string, from: string): Promise<void> {
    return this.changeStage(
      ref,
      CURRENT,
      { to, from },
      (holder) => holder?.versionId === to,
      () => this.casConflict(ref, from),
    );
  }

  /** Removes AWSPENDING from `version` when it carries it. */
  private async unlabelPending(ref: CredentialRef, version: AwsVersion): Promise<void> {
    if (!version.stages.includes(PENDING)) return;
    await this.changeStage(
      ref,
      PENDING,
      { from: version.versionId },
      (holder) => holder?.versionId !== version.versionId,
    );
  }

  dropPending(ref: CredentialRef, rotationId?: string): Promise<void> {
    return this.guard(ref, async () => {
      const pending = await this.byStage(ref, PENDING);
      if (pending === null) return;
      if (rotationId !== undefined && rotationIdOf(pending.secretString, ref) !== rotationId) return;
      await this.unlabelPending(ref, pending);
    });
  }

  list(options: ListOptions): Promise<ListPage> {
    return this.guard(undefined, async () => {
      const cursor = decodeCursor(options.cursor);
      if (cursor === undefined) {
        throw new CertrotorError(
          "BAD_ARGUMENT",
          `AWS Secrets Manager store "${this.name}": the list cursor is not one it issued`,
        );
      }
      const window = await this.api.list(100, listFilters(options), cursor.token);
      return pageOf(window, options, cursor);
    });
  }

  async close(): Promise<void> {
    this.api.destroy();
  }
}

export async function createAwsStore(
  name: string,
  config: AwsStoreConfig,
  options: AwsStoreOptions = {},
): Promise<SecretStore> {
  const api = createSecretsApi(name, config, options.logger ?? (() => {}));
  const scrub = [config.credentials?.secretAccessKey, config.credentials?.sessionToken].filter(
    (s): s is string => !!s,
  );
  return new AwsSecretStore(name, api, scrub);
}
