/**
 * The only file that touches `@aws-sdk/client-secrets-manager`: builds the client from config and offers the
 * handful of calls the AWS store makes, with plain inputs and outputs. Each call is logged (operation, path,
 * outcome, duration, attempts; never values) and a failure leaves as an AwsCallFailure carrying the AWS code.
 */
import { performance } from "node:perf_hooks";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import type { AwsStoreConfig } from "../config/schema.js";
import { isQuotaError, QuotaExceeded, toCallFailure } from "./aws-errors.js";

/** One version of a secret as GetSecretValue returns it. */
export interface AwsVersion {
  versionId: string;
  stages: string[];
  /** Absent for a binary secret. */
  secretString: string | undefined;
}

export interface AwsListEntry {
  name: string;
  tags: Array<{ key: string; value: string }>;
  /** Whether a version carries AWSPENDING (from SecretVersionsToStages); undefined when the entry has no map. */
  pending?: boolean;
}

export type ListFilter = { Key: "name" | "tag-key" | "tag-value"; Values: string[] };

export interface SecretsApi {
  getByStage(secretId: string, stage: string): Promise<AwsVersion>;
  getByVersion(secretId: string, versionId: string): Promise<AwsVersion>;
  /** DescribeSecret: true when the secret is scheduled for deletion. */
  isScheduledForDeletion(secretId: string): Promise<boolean>;
  /** DescribeSecret: the version labelled `stage` (null when none, or the secret is scheduled for deletion). */
  versionIdWithStage(secretId: string, stage: string): Promise<string | null>;
  put(
    secretId: string,
    token: string,
    secretString: string,
    stages: string[],
  ): Promise<{ versionId: string; stages: string[] }>;
  /** UpdateSecretVersionStage: move `stage` to `to` (taking it from `from`), or only remove it from `from`. */
  updateStage(secretId: string, stage: string, change: { to?: string; from?: string }): Promise<void>;
  list(
    maxResults: number,
    filters: ListFilter[] | undefined,
    nextToken?: string,
  ): Promise<{ entries: AwsListEntry[]; nextToken?: string }>;
  destroy(): void;
}

export function createSecretsApi(
  store: string,
  config: AwsStoreConfig,
  log: (line: object) => void,
): SecretsApi {
  const client = new SecretsManagerClient({
    region: config.region,
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    // Absent: the SDK's default chain (env, shared config, SSO, web identity / IRSA, container, IMDS).
    ...(config.credentials !== undefined ? { credentials: { ...config.credentials } } : {}),
    // The SDK retries throttling, 5xx and network errors itself, with backoff, up to maxAttempts.
    maxAttempts: config.maxAttempts,
    requestHandler: {
      // explicit, so no environment setting can turn verification off (Node's default roots)
      httpsAgent: { keepAlive: true, rejectUnauthorized: true },
      connectionTimeout: config.connectTimeout,
      requestTimeout: config.requestTimeout,
      throwOnRequestTimeout: true,
    },
  });
  // Inside the SDK's retry loop: a quota error leaves it at once instead of being retried as throttling.
  type Middleware = Parameters<typeof client.middlewareStack.addRelativeTo>[0];
  const noQuotaRetries =
    (next: (args: unknown) => Promise<unknown>) =>
    async (args: unknown): Promise<unknown> => {
      try {
        return await next(args);
      } catch (error) {
        throw isQuotaError(error) ? new QuotaExceeded(error) : error;
      }
    };
  client.middlewareStack.addRelativeTo(noQuotaRetries as unknown as Middleware, {
    relation: "after",
    toMiddleware: "retryMiddleware",
    name: "certrotorNoQuotaRetries",
  });

  async function call<T extends { $metadata?: { attempts?: number } }>(
    operation: string,
    path: string | undefined,
    send: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const line = { store, kind: "aws", operation, ...(path !== undefined ? { path } : {}) };
    try {
      const out = await send();
      log({
        ...line,
        outcome: "ok",
        ms: Math.round(performance.now() - started),
        attempts: out.$metadata?.attempts,
      });
      return out;
    } catch (error) {
      const failure = toCallFailure(operation, error);
      const ms = Math.round(performance.now() - started);
      log({ ...line, outcome: failure.awsCode, status: failure.status, ms, requestId: failure.requestId });
      throw failure;
    }
  }

  const get = async (
    secretId: string,
    selector: { VersionStage?: string; VersionId?: string },
  ): Promise<AwsVersion> => {
    const out = await call("GetSecretValue", secretId, () =>
      client.send(new GetSecretValueCommand({ SecretId: secretId, ...selector })),
    );
    return {
      versionId: out.VersionId ?? "",
      stages: out.VersionStages ?? [],
      secretString: out.SecretString,
    };
  };

  return {
    getByStage: (secretId, stage) => get(secretId, { VersionStage: stage }),
    getByVersion: (secretId, versionId) => get(secretId, { VersionId: versionId }),
    isScheduledForDeletion: async (secretId) => {
      const out = await call("DescribeSecret", secretId, () =>
        client.send(new DescribeSecretCommand({ SecretId: secretId })),
      );
      return out.DeletedDate !== undefined;
    },
    versionIdWithStage: async (secretId, stage) => {
      const out = await call("DescribeSecret", secretId, () =>
        client.send(new DescribeSecretCommand({ SecretId: secretId })),
      );
      if (out.DeletedDate !== undefined) return null;
      const found = Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes(stage));
      return found?.[0] ?? null;
    },
    put: async (secretId, token, secretString, stages) => {
      const out = await call("PutSecretValue", secretId, () =>
        client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: token,
            SecretString: secretString,
            VersionStages: stages,
          }),
        ),
      );
      return { versionId: out.VersionId ?? "", stages: out.VersionStages ?? [] };
    },
    updateStage: async (secretId, stage, { to, from }) => {
      await call("UpdateSecretVersionStage", secretId, () =>
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: secretId,
            VersionStage: stage,
            ...(to !== undefined ? { MoveToVersionId: to } : {}),
            ...(from !== undefined ? { RemoveFromVersionId: from } : {}),
          }),
        ),
      );
    },
    list: async (maxResults, filters, nextToken) => {
      const out = await call("ListSecrets", undefined, () =>
        client.send(
          new ListSecretsCommand({
            MaxResults: maxResults,
            ...(filters !== undefined ? { Filters: filters } : {}),
            ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      const entries = (out.SecretList ?? []).flatMap((entry) =>
        entry.Name === undefined
          ? []
          : [
              {
                name: entry.Name,
                tags: (entry.Tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value ?? "" })),
                ...(entry.SecretVersionsToStages !== undefined
                  ? {
                      pending: Object.values(entry.SecretVersionsToStages).some((stages) =>
                        stages.includes("AWSPENDING"),
                      ),
                    }
                  : {}),
              },
            ],
      );
      return { entries, ...(out.NextToken ? { nextToken: out.NextToken } : {}) };
    },
    destroy: () => client.destroy(),
  };
}
