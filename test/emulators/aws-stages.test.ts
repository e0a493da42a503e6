/**
 * Versions and staging labels in the emulator, through the real AWS SDK v3 client, replaying the sequences
 * AWS was recorded answering (localstack's AWS-validated snapshots, protocols.md §4.3): PutSecretValue with and
 * without VersionStages, the rotation cycle with custom labels, ClientRequestToken idempotency, and the
 * errors of GetSecretValue and UpdateSecretVersionStage.
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clientFor, rejection, rewriteBody } from "./aws/sdk.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";

describe("AWS Secrets Manager emulator: versions and staging labels", () => {
  let emulator: AwsEmulator;
  let client: SecretsManagerClient;
  before(async () => {
    emulator = await startAwsEmulator({ retainUnlabelledMs: 0 });
    client = clientFor(emulator).client;
  });
  after(() => emulator.stop());

  const create = async (value = "S1"): Promise<{ name: string; v1: string }> => {
    const name = `stages/${randomUUID()}`;
    const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    return { name, v1: created.VersionId! };
  };
  const put = async (name: string, value: string, stages?: string[]): Promise<string> =>
    (
      await client.send(
        new PutSecretValueCommand({
          SecretId: name,
          SecretString: value,
          ...(stages ? { VersionStages: stages } : {}),
        }),
      )
    ).VersionId!;
  /** Version id → labels of the versions ListSecretVersionIds shows (labelled ones only). */
  const labels = async (name: string): Promise<Record<string, string[]>> => {
    const { Versions = [] } = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    return Object.fromEntries(Versions.map((v) => [v.VersionId!, v.VersionStages!]));
  };
  const value = async (name: string, stage = "AWSCURRENT"): Promise<string | undefined> =>
    (await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))).SecretString;

  it("moves AWSCURRENT on a plain PutSecretValue and AWSPREVIOUS to the version it left", async () => {
    const { name, v1 } = await create();
    const v2 = await put(name, "S2");
    assert.deepEqual(await labels(name), { [v1]: ["AWSPREVIOUS"], [v2]: ["AWSCURRENT"] });
    const v3 = await put(name, "S3");
    assert.deepEqual(await labels(name), { [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
    assert.equal(await value(name, "AWSPREVIOUS"), "S2");
  });

  it("leaves AWSCURRENT where it is when VersionStages does not name it", async () => {
    const { name, v1 } = await create("secret_string_v0");
    const out = await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: "v1",
        VersionStages: ["SAMPLESTAGE1", "SAMPLESTAGE0"],
      }),
    );
    assert.deepEqual(out.VersionStages, ["SAMPLESTAGE0", "SAMPLESTAGE1"]);
    const pending = await put(name, "v3", ["AWSPENDING"]);
    assert.equal(await value(name), "secret_string_v0");
    assert.deepEqual((await labels(name))[v1], ["AWSCURRENT"]);
    assert.deepEqual((await labels(name))[pending], ["AWSPENDING"]);
  });

  it("replays AWS's rotation cycle with custom labels: AWSPENDING and custom labels stay, the oldest version is deprecated", async () => {
    const { name, v1 } = await create("S1");
    const v2 = await put(name, "S2", ["AWSPENDING", "AWSSOMETHING", "PUT1"]);
    assert.deepEqual(await labels(name), {
      [v1]: ["AWSCURRENT"],
      [v2]: ["AWSPENDING", "AWSSOMETHING", "PUT1"],
    });
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: "AWSCURRENT",
        MoveToVersionId: v2,
        RemoveFromVersionId: v1,
      }),
    );
    assert.deepEqual(await labels(name), {
      [v1]: ["AWSPREVIOUS"],
      [v2]: ["AWSCURRENT", "AWSPENDING", "AWSSOMETHING", "PUT1"],
    });
    assert.equal(await value(name), "S2");
    const v3 = await put(name, "S3", ["AWSPENDING", "PUT2"]);
    assert.deepEqual(await labels(name), {
      [v1]: ["AWSPREVIOUS"],
      [v2]: ["AWSCURRENT", "AWSSOMETHING", "PUT1"],
      [v3]: ["AWSPENDING", "PUT2"],
    });
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: "AWSCURRENT",
        MoveToVersionId: v3,
        RemoveFromVersionId: v2,
      }),
    );
    assert.deepEqual(await labels(name), {
      [v2]: ["AWSPREVIOUS", "AWSSOMETHING", "PUT1"],
      [v3]: ["AWSCURRENT", "AWSPENDING", "PUT2"],
    });
    const all = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
    );
    const deprecated = all.Versions?.find((v) => v.VersionId === v1);
    assert.ok(deprecated, "the deprecated version is listed with IncludeDeprecated");
    assert.equal("VersionStages" in deprecated, false, "and has no VersionStages key");
  });

  it("takes each label off the version that had it: one, two, three then one, two, four", async () => {
    const { name } = await create();
    const v2 = await put(name, "A", ["one", "two", "three"]);
    const v3 = await put(name, "B", ["one", "two", "four"]);
    const now = await labels(name);
    assert.deepEqual(now[v2], ["three"]);
    assert.deepEqual(now[v3], ["four", "one", "two"]);
  });

  it("gives the first version of an empty secret AWSCURRENT, whatever labels were asked for", async () => {
    const name = `stages/${randomUUID()}`;
    const created = await client.send(new CreateSecretCommand({ Name: name }));
    assert.equal(created.VersionId, undefined);
    const out = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: "first", VersionStages: ["AWSPENDING"] }),
    );
    assert.deepEqual(out.VersionStages, ["AWSCURRENT", "AWSPENDING"]);
  });

  it("ignores a repeated ClientRequestToken with the same value and refuses it with another value", async () => {
    const { name } = await create();
    const token = randomUUID();
    const first = await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: token,
        SecretString: "S2",
        VersionStages: ["AWSPENDING"],
      }),
    );
    assert.equal(first.VersionId, token, "the token becomes the VersionId");
    const again = await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: token,
        SecretString: "S2",
        VersionStages: ["OTHER"],
      }),
    );
    assert.equal(again.VersionId, token);
    assert.deepEqual(again.VersionStages, ["AWSPENDING"], "the repeated request changed no labels");
    const clash = await rejection(
      client.send(
        new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: "S3" }),
      ),
    );
    assert.equal(clash.name, "ResourceExistsException");
    assert.match(
      clash.message,
      new RegExp(
        `^You can't use ClientRequestToken ${token} because that value is already in use for a version of secret arn:aws:secretsmanager:`,
      ),
    );
    const { Versions = [] } = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
    );
    assert.equal(Versions.length, 2);
  });

  it("refuses a request without ClientRequestToken as AWS does", async () => {
    const { name } = await create();
    const { client: raw } = clientFor(emulator);
    rewriteBody(raw, "unsigned", ({ ClientRequestToken: _token, ...body }) => body);
    const error = await rejection(
      raw.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2" })),
    );
    assert.equal(error.name, "InvalidRequestException");
    assert.equal(
      error.message,
      "You must provide a ClientRequestToken value. We recommend a UUID-type value.",
    );
  });

  it("answers GetSecretValue by label, by version, and refuses a label the version does not carry", async () => {
    const { name, v1 } = await create("S1");
    const v2 = await put(name, "S2", ["AWSPENDING"]);
    assert.equal(
      (await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v2 }))).SecretString,
      "S2",
    );
    const both = await client.send(
      new GetSecretValueCommand({ SecretId: name, VersionId: v1, VersionStage: "AWSCURRENT" }),
    );
    assert.equal(both.SecretString, "S1");
    const mismatch = await rejection(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v2, VersionStage: "AWSCURRENT" })),
    );
    assert.equal(mismatch.name, "InvalidRequestException");
    assert.equal(
      mismatch.message,
      "You provided a VersionStage that is not associated to the provided VersionId.",
    );
    const noLabel = await rejection(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPREVIOUS" })),
    );
    assert.equal(noLabel.name, "ResourceNotFoundException");
    assert.equal(
      noLabel.message,
      "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    );
  });

  it("demands RemoveFromVersionId when the label sits on another version, and that it is that version", async () => {
    const { name, v1 } = await create();
    const v2 = await put(name, "S2", ["AWSPENDING"]);
    const missing = await rejection(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: "AWSCURRENT",
          MoveToVersionId: v2,
        }),
      ),
    );
    assert.equal(missing.name, "InvalidParameterException");
    assert.equal(
      missing.message,
      `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${v1}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
    const wrong = await rejection(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: "AWSCURRENT",
          MoveToVersionId: v2,
          RemoveFromVersionId: v2,
        }),
      ),
    );
    assert.equal(wrong.name, "InvalidParameterException");
    assert.deepEqual(await labels(name), { [v1]: ["AWSCURRENT"], [v2]: ["AWSPENDING"] }, "nothing moved");
  });

  it("removes a label when no MoveToVersionId is given, leaving the version deprecated", async () => {
    const { name, v1 } = await create();
    const v2 = await put(name, "S2", ["AWSPENDING"]);
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: "AWSPENDING",
        RemoveFromVersionId: v2,
      }),
    );
    assert.deepEqual(await labels(name), { [v1]: ["AWSCURRENT"] });
    const gone = await rejection(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPENDING" })),
    );
    assert.equal(gone.name, "ResourceNotFoundException");
  });

  it("prunes the oldest unlabelled versions once a secret has more than 100", async () => {
    const { name, v1 } = await create();
    const ids = [v1];
    for (let i = 0; i < 104; i++) ids.push(await put(name, `S${i}`, ["ROLLING"]));
    const kept: Array<string | undefined> = [];
    let NextToken: string | undefined;
    do {
      const page = await client.send(
        new ListSecretVersionIdsCommand({
          SecretId: name,
          IncludeDeprecated: true,
          MaxResults: 60,
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      kept.push(...(page.Versions ?? []).map((v) => v.VersionId));
      NextToken = page.NextToken;
    } while (NextToken);
    assert.equal(kept.length, 100);
    assert.ok(kept.includes(v1), "the labelled AWSCURRENT version is never pruned");
    assert.ok(kept.includes(ids.at(-1)), "the newest version is kept");
    assert.ok(!kept.includes(ids[1]), "the oldest unlabelled version is gone");
  });
});
