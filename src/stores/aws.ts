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
 * Staging into a secret without a current value is refused (NOT_FOUND): AWS makes the first version of a
 * secret AWSCURRENT whatever stages are asked for, so the unverified material would go live at stage.
 * Reads are eventually consistent: aws-consistency.ts keeps a stale read from undoing the store's own label
 * changes or turning into a false conflict.
 *
 * `certrotor import` into a secret that exists without a value writes its first version directly
 * (writeFirstVersion): there the material has been checked and proven at the bank before.
 *
 * IAM actions used: GetSecretValue, PutSecretValue, UpdateSecretVersionStage, DescribeSecret, ListSecrets.
 * The SDK itself is only touched in aws-client.ts.
 */
import type { AwsStoreConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { type AwsVersion, createSecretsApi, type SecretsApi } from "./aws-client.js";
import { Consistency } from "./aws-consistency.js";
import { CURRENT, PENDING, PREVIOUS, SecretLabels } from "./aws-labels.js";
import { isAwsCode, mapAwsFailure, type StoreFailureCode } from "./aws-errors.js";
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
  CurrentVersionReader,
  FirstVersionWriter,
  ListOptions,
  ListPage,
  Material,
  PendingMaterial,
  SecretStore,
  StoredMaterial,
} from "./types.js";

export { clientRequestToken } from "./aws-model.js";

export interface AwsStoreOptions {
  /** Receives one object per AWS call: store, operation, path, outcome, ms, attempts. Never values or keys. */
  logger?: (line: object) => void;
}

class AwsSecretStore implements SecretStore, FirstVersionWriter, CurrentVersionReader {
  readonly kind = "aws" as const;

  private readonly labels: SecretLabels;

  constructor(
    readonly name: string,
    private readonly api: SecretsApi,
    /** Configured secrets that must never reach a message. */
    private readonly scrub: string[],
    consistency: Consistency,
  ) {
    this.labels = new SecretLabels(name, api, consistency);
  }

  /** Public-method boundary: every failure leaves as a CertrotorError. */
  private async guard<T>(ref: CredentialRef | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapAwsFailure(error, { store: this.name, ...(ref ? { path: ref.path } : {}), scrub: this.scrub });
    }
  }

  private failure(code: StoreFailureCode, ref: CredentialRef, what: string, hint?: string): CertrotorError {
    return this.labels.failure(code, ref, what, hint);
  }

  private stored(ref: CredentialRef, version: AwsVersion): StoredMaterial {
    const { material, extra } = decodeMaterial(parseDocument(ref, version.secretString), ref);
    return { material, version: version.versionId, extra };
  }

  readCurrent(ref: CredentialRef): Promise<StoredMaterial> {
    return this.guard(ref, async () => {
      const current = await this.labels.byStage(ref, CURRENT);
      if (current === null) throw this.failure("NOT_FOUND", ref, "the secret has no current value");
      return this.stored(ref, current);
    });
  }

  /** DescribeSecret's AWSCURRENT version id: no secret value crosses the wire (IAM: DescribeSecret). */
  currentVersion(ref: CredentialRef): Promise<string> {
    return this.guard(ref, async () => {
      const read = () => this.api.versionIdWithStage(ref.path, CURRENT);
      const expected = this.labels.consistency.expectation(ref.path, CURRENT);
      const versionId =
        expected === undefined
          ? await read()
          : await this.labels.consistency.settle(read, (found) => found === expected);
      if (versionId === null) throw this.failure("NOT_FOUND", ref, "the secret has no current value");
      return versionId;
    });
  }

  readPrevious(ref: CredentialRef): Promise<StoredMaterial | null> {
    return this.guard(ref, async () => {
      const previous = await this.labels.byStage(ref, PREVIOUS);
      return previous === null ? null : this.stored(ref, previous);
    });
  }

  readPending(ref: CredentialRef): Promise<PendingMaterial | null> {
    return this.guard(ref, async () => {
      const pending = await this.labels.pendingVersion(ref);
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
      const current = await this.labels.confirmed(
        () => this.labels.byStage(ref, CURRENT),
        (version) => version !== null,
      );
      if (current === null) {
        throw this.failure(
          "NOT_FOUND",
          ref,
          "the secret has no current value, and staging into it would make the new material current at once, unverified (Secrets Manager labels a secret's first version AWSCURRENT whatever stages are asked for)",
          "store the credential's current material in the secret first (a PutSecretValue without VersionStages), then rotate",
        );
      }
      const extra = unmanagedKeys(ref, current.secretString);
      const free = (version: AwsVersion | null) =>
        version === null || rotationIdOf(version.secretString, ref) === rotationId;
      const pending = await this.labels.confirmed(() => this.labels.pendingVersion(ref, true), free);
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
      // unmanaged keys). AWS just said it exists: a read that misses it is stale.
      const existing = await this.labels.versionThatExists(ref, clientRequestToken(rotationId));
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
      await this.labels.changeStage(
        ref,
        PENDING,
        { to, ...(from ? { from } : {}) },
        (holder) => holder?.versionId === to,
      );
    } else if (put.stages.includes(PENDING)) {
      this.labels.consistency.wrote(ref.path, PENDING, put.versionId);
    }
    return put.versionId;
  }

  promote(ref: CredentialRef, rotationId: string, expectedCurrentVersion: string): Promise<StoredMaterial> {
    return this.guard(ref, async () => {
      const ofThisRotation = (version: AwsVersion | null) =>
        version !== null && rotationIdOf(version.secretString, ref) === rotationId;
      const current = await this.labels.confirmed(
        () => this.labels.byStage(ref, CURRENT),
        (version) => ofThisRotation(version) || version?.versionId === expectedCurrentVersion,
      );
      if (current !== null && ofThisRotation(current)) {
        await this.labels.unlabelPending(ref, current); // done before: finish a promote cut between its two calls
        return this.stored(ref, current);
      }
      if (current?.versionId !== expectedCurrentVersion)
        throw this.labels.casConflict(ref, expectedCurrentVersion);
      const pending = await this.labels.confirmed(
        () => this.labels.pendingVersion(ref, true),
        ofThisRotation,
      );
      if (pending === null || !ofThisRotation(pending)) {
        throw this.failure("NOT_FOUND", ref, `no material of rotation ${rotationId} is pending`);
      }
      const promoted = this.stored(ref, pending); // decode before moving labels: never promote garbage
      await this.labels.moveCurrent(ref, pending.versionId, expectedCurrentVersion);
      await this.labels.unlabelPending(ref, pending);
      return promoted;
    });
  }

  /** PutSecretValue into a secret that exists without any value: the service makes it AWSCURRENT. */
  writeFirstVersion(ref: CredentialRef, writeId: string, material: Material): Promise<StoredMaterial> {
    return this.guard(ref, async () => {
      if ((await this.labels.byStage(ref, CURRENT)) !== null)
        throw this.failure("CAS_CONFLICT", ref, "the secret got a current value meanwhile");
      const doc = encodeMaterial(material, ref.fieldMap);
      const put = await this.api.put(ref.path, clientRequestToken(writeId), JSON.stringify(doc), [CURRENT]);
      this.labels.consistency.wrote(ref.path, CURRENT, put.versionId);
      return { material, version: put.versionId, extra: {} };
    });
  }

  dropPending(ref: CredentialRef, rotationId?: string): Promise<void> {
    return this.guard(ref, async () => {
      const pending = await this.labels.byStage(ref, PENDING);
      if (pending === null) return;
      if (rotationId !== undefined && rotationIdOf(pending.secretString, ref) !== rotationId) return;
      await this.labels.unlabelPending(ref, pending);
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
  return new AwsSecretStore(name, api, scrub, new Consistency(config.consistencyWindow));
}
