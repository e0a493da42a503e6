/**
 * The mutating and reading operations on secret values: CreateSecret, GetSecretValue, PutSecretValue,
 * UpdateSecretVersionStage, DeleteSecret, RestoreSecret, TagResource, UntagResource. Behaviour and texts follow
 * protocols.md §4 (AWS-validated snapshots first, the API reference next; the few texts AWS has not been seen
 * to send are marked "unverified").
 */
import { AwsError, invalidParameter, invalidRequest, notFound } from "./errors.js";
import { type Input, optBool, optInt, optString, optStringList, optTags, reqString } from "./input.js";
import {
  CURRENT,
  PENDING,
  type Secret,
  type SecretStoreState,
  type Version,
  attachLabel,
  epochSeconds,
  holderOf,
  prune,
  sortedStages,
  startOfDay,
} from "./model.js";

const NAME = /^[A-Za-z0-9/_+=.@-]+$/;
const MAX_VALUE_BYTES = 65_536;

function checkName(name: string): void {
  if (!NAME.test(name) || name.length > 512) {
    throw new AwsError(
      "ValidationException",
      "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
    );
  }
}

/** ClientRequestToken: the SDK always fills one in; a raw request without it is refused (AWS-validated). */
function requestToken(input: Input): string {
  const token = optString(input, "ClientRequestToken", 32, 64);
  if (token === undefined) {
    throw invalidRequest("You must provide a ClientRequestToken value. We recommend a UUID-type value.");
  }
  return token;
}

function secretValue(input: Input, required: boolean): { string?: string; binary?: string } | undefined {
  const string = optString(input, "SecretString");
  const binary = optString(input, "SecretBinary");
  if (string !== undefined && binary !== undefined) {
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (string === undefined && binary === undefined) {
    if (required) throw invalidRequest("You must provide either SecretString or SecretBinary.");
    return undefined;
  }
  const member = string !== undefined ? "secretString" : "secretBinary";
  const bytes =
    string !== undefined ? Buffer.byteLength(string, "utf8") : Buffer.from(binary!, "base64").length;
  if (bytes < 1 || bytes > MAX_VALUE_BYTES) {
    const bound = bytes < 1 ? "greater than or equal to 1" : `less than or equal to ${MAX_VALUE_BYTES}`;
    throw new AwsError(
      "ValidationException",
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
  return string !== undefined ? { string } : { binary: binary! };
}

function addVersion(
  state: SecretStoreState,
  secret: Secret,
  id: string,
  value: { string?: string; binary?: string },
): Version {
  const version: Version = { id, ...value, stages: new Set(), created: state.now() };
  secret.versions.set(id, version);
  return version;
}

export function createSecret(state: SecretStoreState, input: Input): object {
  const name = reqString(input, "Name", 1, 512);
  checkName(name);
  const token = requestToken(input);
  const value = secretValue(input, false);
  const description = optString(input, "Description", 0, 2048);
  const kmsKeyId = optString(input, "KmsKeyId", 0, 2048);
  const tags = optTags(input, "Tags") ?? [];
  const existing = state.lookup(name);
  if (existing?.deletedAt !== undefined) {
    throw invalidRequest(
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  }
  if (existing !== undefined) {
    throw new AwsError(
      "ResourceExistsException",
      `The operation failed because the secret ${name} already exists.`,
    );
  }
  const now = state.now();
  const secret: Secret = {
    name,
    arn: state.newArn(name),
    ...(description !== undefined ? { description } : {}),
    ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
    tags: new Map(tags.map((tag) => [tag.Key, tag.Value])),
    versions: new Map(),
    created: now,
    changed: now,
  };
  state.secrets.set(name, secret);
  if (value === undefined) return { ARN: secret.arn, Name: name };
  addVersion(state, secret, token, value).stages.add(CURRENT);
  return { ARN: secret.arn, Name: name, VersionId: token };
}

function resolveVersion(secret: Secret, versionId: string | undefined, stage: string | undefined): Version {
  if (versionId !== undefined) {
    const version = secret.versions.get(versionId);
    if (version === undefined)
      throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    if (stage !== undefined && !version.stages.has(stage)) {
      throw invalidRequest("You provided a VersionStage that is not associated to the provided VersionId.");
    }
    return version;
  }
  const label = stage ?? CURRENT;
  const version = holderOf(secret, label);
  if (version === undefined)
    throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${label}`);
  return version;
}

export function getSecretValue(state: SecretStoreState, input: Input): object {
  const secretId = reqString(input, "SecretId", 1, 2048);
  const versionId = optString(input, "VersionId", 32, 64);
  const stage = optString(input, "VersionStage", 1, 256);
  const secret = state.findLive(secretId);
  const version = resolveVersion(secret, versionId, stage);
  const today = startOfDay(state.now());
  secret.accessed = today;
  version.accessed = today;
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.id,
    ...(version.string !== undefined ? { SecretString: version.string } : { SecretBinary: version.binary }),
    VersionStages: sortedStages(version),
    CreatedDate: epochSeconds(version.created),
  };
}

export function putSecretValue(state: SecretStoreState, input: Input): object {
  const secretId = reqString(input, "SecretId", 1, 2048);
  const token = requestToken(input);
  const value = secretValue(input, true)!;
  const stages = optStringList(input, "VersionStages", 1, 20, 256) ?? [CURRENT];
  const secret = state.findLive(secretId);
  const existing = secret.versions.get(token);
  if (existing !== undefined) {
    // Same token and same value: "the request is ignored"; same token, other value: refused (API reference).
    if (existing.string === value.string && existing.binary === value.binary) {
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: sortedStages(existing) };
    }
    throw new AwsError(
      "ResourceExistsException",
      `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${secret.arn}.`,
    );
  }
  const first = holderOf(secret, CURRENT) === undefined;
  const labels = first && !stages.includes(CURRENT) ? [...stages, CURRENT] : stages;
  const before = labelsOf(secret);
  const previousCurrent = holderOf(secret, CURRENT);
  const version = addVersion(state, secret, token, value);
  for (const stage of labels) attachLabel(secret, version, stage);
  // A PutSecretValue that moves AWSCURRENT ends any rotation of the version it leaves: that version keeps
  // AWSPREVIOUS and loses AWSPENDING (recorded against AWS after a promote cut between its two calls:
  // v1 [AWSPREVIOUS], vR [AWSCURRENT, AWSPENDING] + PutSecretValue → vR [AWSPREVIOUS]; moto's
  // reset_default_version drops it too). UpdateSecretVersionStage leaves AWSPENDING alone (AWS-validated).
  if (labels.includes(CURRENT) && previousCurrent !== undefined) previousCurrent.stages.delete(PENDING);
  secret.changed = state.now();
  prune(secret, state.now(), state.options.retainUnlabelledMs);
  if (secret.versions.size > MAX_VERSIONS) {
    // "Secrets Manager removes unlabeled versions when there are more than 100, but it does not remove
    // versions created less than 24 hours ago" (API_PutSecretValue): past that, the put is refused as a quota.
    secret.versions.delete(token);
    restoreLabels(secret, before);
    throw new AwsError(
      "LimitExceededException",
      "The request failed because it would exceed one of the Secrets Manager quotas.", // wording unverified
    );
  }
  return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: sortedStages(version) };
}

/** Versions per secret beyond which unlabelled ones are removed (when old enough) or the put refused. */
const MAX_VERSIONS = 100;

function labelsOf(secret: Secret): Map<string, Set<string>> {
  return new Map([...secret.versions].map(([id, version]) => [id, new Set(version.stages)]));
}

function restoreLabels(secret: Secret, labels: Map<string, Set<string>>): void {
  for (const [id, stages] of labels) {
    const version = secret.versions.get(id);
    if (version) version.stages = stages;
  }
}

function existingVersion(secret: Secret, id: string | undefined): Version | undefined {
  if (id === undefined) return undefined;
  const version = secret.versions.get(id);
  if (version === undefined)
    throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${id}`);
  return version;
}

export function updateSecretVersionStage(state: SecretStoreState, input: Input): object {
  const secretId = reqString(input, "SecretId", 1, 2048);
  const stage = reqString(input, "VersionStage", 1, 256);
  const moveToId = optString(input, "MoveToVersionId", 32, 64);
  const removeFromId = optString(input, "RemoveFromVersionId", 32, 64);
  const secret = state.findLive(secretId);
  const target = existingVersion(secret, moveToId);
  existingVersion(secret, removeFromId);
  const holder = holderOf(secret, stage);
  if (target !== undefined && holder !== undefined && holder !== target && removeFromId === undefined) {
    // The text AWS sends (quoted in terraform-provider-aws#19943).
    throw invalidParameter(
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }
  if (removeFromId !== undefined && holder?.id !== removeFromId) {
    // "If the label is attached and you ... specify ... [a] version ID [that] does not match, then the operation
    // fails" (API reference). Wording unverified.
    throw invalidParameter(`The staging label ${stage} is not attached to the version ${removeFromId}.`);
  }
  if (target === undefined && removeFromId === undefined) {
    throw invalidParameter("You must specify either MoveToVersionId or RemoveFromVersionId."); // unverified
  }
  if (stage === CURRENT && target === undefined) {
    // AWSCURRENT can only move: AWS refuses to take it off without putting it elsewhere (the text AWS sends,
    // quoted in terraform-provider-aws internal/service/secretsmanager/secret_version.go).
    throw invalidParameter(
      "You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.",
    );
  }
  if (target !== undefined) attachLabel(secret, target, stage);
  else holder?.stages.delete(stage);
  secret.changed = state.now();
  prune(secret, state.now(), state.options.retainUnlabelledMs);
  return { ARN: secret.arn, Name: secret.name };
}

export function deleteSecret(state: SecretStoreState, input: Input): object {
  const secretId = reqString(input, "SecretId", 1, 2048);
  const window = optInt(input, "RecoveryWindowInDays", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const force = optBool(input, "ForceDeleteWithoutRecovery") ?? false;
  if (window !== undefined && force) {
    throw invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  }
  if (window !== undefined && (window < 7 || window > 30)) {
    throw invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  }
  const secret = state.find(secretId);
  const now = state.now();
  if (force) {
    state.secrets.delete(secret.name);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now) };
  }
  if (secret.deletedAt !== undefined)
    throw invalidRequest(
      "You can't perform this operation on the secret because it was marked for deletion.",
    );
  secret.deletedAt = now;
  secret.deletionDate = now + (window ?? 30) * 86_400_000;
  secret.changed = now;
  return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(secret.deletionDate) };
}

export function restoreSecret(state: SecretStoreState, input: Input): object {
  const secret = state.find(reqString(input, "SecretId", 1, 2048));
  delete secret.deletedAt;
  delete secret.deletionDate;
  secret.changed = state.now();
  return { ARN: secret.arn, Name: secret.name };
}

export function tagResource(state: SecretStoreState, input: Input): object {
  const secretId = reqString(input, "SecretId", 1, 2048);
  const tags = optTags(input, "Tags");
  if (tags === undefined)
    throw new AwsError(
      "ValidationException",
      "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
    );
  const secret = state.findLive(secretId);
  for (const tag of tags) secret.tags.set(tag.Key, tag.Value);
  secret.changed = state.now();
  return {};
}

export function untagResource(state: SecretStoreState, input: Input): object {
  const secretId = reqString(input, "SecretId", 1, 2048);
  const keys = optStringList(input, "TagKeys", 0, 50, 128);
  if (keys === undefined)
    throw new AwsError(
      "ValidationException",
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    );
  const secret = state.findLive(secretId);
  for (const key of keys) secret.tags.delete(key);
  secret.changed = state.now();
  return {};
}
