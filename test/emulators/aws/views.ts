/**
 * The read-only views: DescribeSecret, ListSecrets (filters, windowed pages, NextToken) and
 * ListSecretVersionIds. Shapes follow the AWS-validated snapshots: keys AWS omits stay absent (no
 * RotationEnabled on a never-rotated secret, no Tags when there are none, only labelled versions in
 * VersionIdsToStages, deprecated versions without a VersionStages key).
 */
import { AwsError } from "./errors.js";
import { type Input, optBool, optInt, optList, optString, reqString } from "./input.js";
import { type Secret, type SecretStoreState, epochSeconds, sortedStages } from "./model.js";

function stagesMap(secret: Secret): Record<string, string[]> | undefined {
  const map: Record<string, string[]> = {};
  for (const version of secret.versions.values()) {
    if (version.stages.size > 0) map[version.id] = sortedStages(version);
  }
  return Object.keys(map).length > 0 ? map : undefined;
}

function common(secret: Secret): Record<string, unknown> {
  const tags = [...secret.tags].map(([Key, Value]) => ({ Key, Value }));
  return {
    ARN: secret.arn,
    Name: secret.name,
    // An empty Description is left out like an absent one (AWS-recorded DescribeSecret answers).
    ...(secret.description ? { Description: secret.description } : {}),
    ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
    LastChangedDate: epochSeconds(secret.changed),
    ...(secret.accessed !== undefined ? { LastAccessedDate: epochSeconds(secret.accessed) } : {}),
    ...(secret.deletedAt !== undefined ? { DeletedDate: epochSeconds(secret.deletedAt) } : {}),
    ...(tags.length > 0 ? { Tags: tags } : {}),
    CreatedDate: epochSeconds(secret.created),
  };
}

export function describeSecret(state: SecretStoreState, input: Input): object {
  const secret = state.find(reqString(input, "SecretId", 1, 2048));
  const stages = stagesMap(secret);
  return { ...common(secret), ...(stages !== undefined ? { VersionIdsToStages: stages } : {}) };
}

const FILTER_KEYS = [
  "description",
  "name",
  "tag-key",
  "tag-value",
  "primary-region",
  "owning-service",
  "all",
];
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

interface Filter {
  key: string;
  values: string[];
}

function parseFilters(input: Input): Filter[] {
  const list = optList(input, "Filters", 0, 10) ?? [];
  return list.map((item, index) => {
    const filter = (item ?? {}) as Input;
    const key = reqString(filter, "Key");
    if (!FILTER_KEYS.includes(key)) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${key}' at 'filters.${index + 1}.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${FILTER_KEYS.join(", ")}]`,
      );
    }
    const values = (optList(filter, "Values", 1, 10) ?? []).map((value) => {
      if (typeof value !== "string" || value.length > 512 || !FILTER_VALUE.test(value)) {
        throw new AwsError(
          "ValidationException",
          `1 validation error detected: Value at 'filters.${index + 1}.member.values' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$`,
        );
      }
      return value;
    });
    return { key, values };
  });
}

/** Words as the console search splits them: case changes, letter/digit changes, punctuation. */
function words(text: string): string[] {
  return (text.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+/g) ?? []).map((word) => word.toLowerCase());
}

function attributeMatches(secret: Secret, key: string, value: string): boolean {
  const tags = [...secret.tags];
  switch (key) {
    case "name":
      return secret.name.startsWith(value);
    case "description":
      return (secret.description ?? "").toLowerCase().startsWith(value.toLowerCase());
    case "tag-key":
      return tags.some(([k]) => k.startsWith(value));
    case "tag-value":
      return tags.some(([, v]) => v.startsWith(value));
    case "all": {
      const haystack = [secret.name, secret.description ?? "", ...tags.flat()].flatMap(words);
      return words(value).some((word) => haystack.some((candidate) => candidate.startsWith(word)));
    }
    default:
      return false; // primary-region, owning-service: no replicas or managing services here
  }
}

/** Values of one key are OR-ed, negated ("!x") values must all hold; keys are AND-ed. */
function matches(secret: Secret, filters: Filter[]): boolean {
  return filters.every(({ key, values }) => {
    const positive = values.filter((v) => !v.startsWith("!"));
    const negative = values.filter((v) => v.startsWith("!")).map((v) => v.slice(1));
    return (
      (positive.length === 0 || positive.some((v) => attributeMatches(secret, key, v))) &&
      negative.every((v) => !attributeMatches(secret, key, v))
    );
  });
}

const encodeToken = (offset: number): string =>
  Buffer.from(JSON.stringify({ offset }), "utf8").toString("base64");

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { offset?: unknown };
    if (typeof offset === "number" && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // falls through to the service's error
  }
  throw new AwsError("InvalidNextTokenException", "The NextToken value is invalid.");
}

/**
 * One page: the window of MaxResults secrets after the cursor is scanned and the matching ones returned, so a
 * filtered page can be short or even empty while NextToken says more follow (as AWS warns clients).
 */
export function listSecrets(state: SecretStoreState, input: Input): object {
  const max = optInt(input, "MaxResults", 1, 100) ?? 100;
  const offset = decodeToken(optString(input, "NextToken"));
  const includeDeleted = optBool(input, "IncludePlannedDeletion") ?? false;
  const descending = optString(input, "SortOrder") === "desc";
  const filters = parseFilters(input);
  state.purge();
  const all = [...state.secrets.values()]
    .filter((secret) => includeDeleted || secret.deletedAt === undefined)
    .sort((a, b) => a.created - b.created || (a.name < b.name ? -1 : 1));
  if (descending) all.reverse();
  const window = all.slice(offset, offset + max);
  const SecretList = window
    .filter((secret) => matches(secret, filters))
    .map((secret) => {
      const stages = stagesMap(secret);
      return { ...common(secret), ...(stages !== undefined ? { SecretVersionsToStages: stages } : {}) };
    });
  return { SecretList, ...(offset + max < all.length ? { NextToken: encodeToken(offset + max) } : {}) };
}

export function listSecretVersionIds(state: SecretStoreState, input: Input): object {
  const secretId = reqString(input, "SecretId", 1, 2048);
  const max = optInt(input, "MaxResults", 1, 100) ?? 100;
  const offset = decodeToken(optString(input, "NextToken"));
  const includeDeprecated = optBool(input, "IncludeDeprecated") ?? false;
  const secret = state.find(secretId);
  const versions = [...secret.versions.values()].filter((v) => includeDeprecated || v.stages.size > 0);
  const Versions = versions.slice(offset, offset + max).map((version) => ({
    VersionId: version.id,
    ...(version.stages.size > 0 ? { VersionStages: sortedStages(version) } : {}),
    ...(version.accessed !== undefined ? { LastAccessedDate: epochSeconds(version.accessed) } : {}),
    CreatedDate: epochSeconds(version.created),
    KmsKeyIds: [secret.kmsKeyId ?? "DefaultEncryptionKey"],
  }));
  return {
    Versions,
    ...(offset + max < versions.length ? { NextToken: encodeToken(offset + max) } : {}),
    ARN: secret.arn,
    Name: secret.name,
  };
}
