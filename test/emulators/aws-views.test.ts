/**
 * DescribeSecret, ListSecrets, ListSecretVersionIds, tags and deletion in the emulator, through the real AWS
 * SDK v3 client, checked against the shapes AWS was recorded answering: keys that AWS leaves out stay out,
 * filters match as the API reference says, pages carry NextToken even when a filtered page is empty.
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clientFor, lastBody, rejection } from "./aws/sdk.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";

describe("AWS Secrets Manager emulator: describe, list, tags, deletion", () => {
  let emulator: AwsEmulator;
  let client: SecretsManagerClient;
  let responses: ReturnType<typeof clientFor>["responses"];
  before(async () => {
    emulator = await startAwsEmulator();
    ({ client, responses } = clientFor(emulator));
  });
  after(() => emulator.stop());
  const run = randomBytes(3).toString("hex");

  it("describes a never-rotated secret without RotationEnabled or Tags, listing only labelled versions", async () => {
    const name = `views-${run}/describe`;
    const { VersionId: v1 } = await client.send(
      new CreateSecretCommand({ Name: name, SecretString: "S1", Description: "d" }),
    );
    const v2 = (await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2" })))
      .VersionId!;
    const v3 = (await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S3" })))
      .VersionId!;
    await client.send(new DescribeSecretCommand({ SecretId: name }));
    const body = lastBody(responses);
    assert.deepEqual(Object.keys(body).sort(), [
      "ARN",
      "CreatedDate",
      "Description",
      "LastChangedDate",
      "Name",
      "VersionIdsToStages",
    ]);
    assert.deepEqual(body.VersionIdsToStages, { [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
    assert.ok(!(v1! in (body.VersionIdsToStages as object)), "the deprecated first version is not listed");

    const empty = `views-${run}/empty`;
    await client.send(new CreateSecretCommand({ Name: empty }));
    await client.send(new DescribeSecretCommand({ SecretId: empty }));
    assert.deepEqual(Object.keys(lastBody(responses)).sort(), [
      "ARN",
      "CreatedDate",
      "LastChangedDate",
      "Name",
    ]);
  });

  it("adds and removes tags, showing Tags only while there are some", async () => {
    const name = `views-${run}/tags`;
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: "S1", Tags: [{ Key: "team", Value: "a" }] }),
    );
    await client.send(
      new TagResourceCommand({
        SecretId: name,
        Tags: [
          { Key: "team", Value: "b" },
          { Key: "env", Value: "prod" },
        ],
      }),
    );
    assert.deepEqual(lastBody(responses), {}, "TagResource answers an empty body");
    const tagged = await client.send(new DescribeSecretCommand({ SecretId: name }));
    assert.deepEqual(tagged.Tags, [
      { Key: "team", Value: "b" },
      { Key: "env", Value: "prod" },
    ]);
    await client.send(new UntagResourceCommand({ SecretId: name, TagKeys: ["team", "env"] }));
    await client.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal("Tags" in lastBody(responses), false);
  });

  it("lists entries with SecretVersionsToStages, filtering by name, description, tag key, tag value, negation and words", async () => {
    const base = `views-${run}/list/`;
    const mk = async (
      suffix: string,
      extra: { Description?: string; Tags?: Array<{ Key: string; Value: string }> },
    ) => client.send(new CreateSecretCommand({ Name: `${base}${suffix}`, SecretString: "S", ...extra }));
    await mk("PaymentsDb", {
      Description: "Database for payments",
      Tags: [{ Key: "team", Value: "payments" }],
    });
    await mk("cardsDb", { Description: "database for cards", Tags: [{ Key: "team", Value: "cards" }] });
    await mk("other", { Tags: [{ Key: "owner", Value: "payments-ops" }] });
    const names = async (Filters: ListSecretsCommandInput["Filters"]): Promise<string[]> => {
      const { SecretList = [] } = await client.send(
        new ListSecretsCommand({ Filters: [{ Key: "name", Values: [base] }, ...(Filters ?? [])] }),
      );
      return SecretList.map((s) => s.Name!.slice(base.length)).sort();
    };
    await client.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [`${base}other`] }] }));
    const entry = (lastBody(responses).SecretList as Array<Record<string, unknown>>)[0]!;
    assert.ok("SecretVersionsToStages" in entry && !("VersionIdsToStages" in entry));
    assert.deepEqual(await names([]), ["PaymentsDb", "cardsDb", "other"]);
    assert.deepEqual(await names([{ Key: "name", Values: [`${base}Pay`] }]), ["PaymentsDb"]);
    assert.deepEqual(await names([{ Key: "name", Values: [`${base}pay`] }]), [], "name is case-sensitive");
    assert.deepEqual(await names([{ Key: "description", Values: ["DATABASE"] }]), ["PaymentsDb", "cardsDb"]);
    assert.deepEqual(await names([{ Key: "tag-key", Values: ["team"] }]), ["PaymentsDb", "cardsDb"]);
    assert.deepEqual(
      await names([{ Key: "tag-value", Values: ["payments"] }]),
      ["PaymentsDb", "other"],
      "prefix of any tag value",
    );
    assert.deepEqual(await names([{ Key: "tag-key", Values: ["!team"] }]), ["other"]);
    assert.deepEqual(
      await names([
        { Key: "tag-key", Values: ["team"] },
        { Key: "tag-value", Values: ["cards"] },
      ]),
      ["cardsDb"],
      "keys are AND-ed",
    );
    assert.deepEqual(await names([{ Key: "all", Values: ["cards"] }]), ["cardsDb"]);
  });

  it("pages ListSecrets by MaxResults and NextToken, with empty filtered pages that still carry NextToken", async () => {
    const base = `views-${run}/pages/`;
    for (let i = 0; i < 7; i++)
      await client.send(new CreateSecretCommand({ Name: `${base}${i}`, SecretString: "S" }));
    const seen: string[] = [];
    let NextToken: string | undefined;
    let emptyWithToken = false;
    do {
      const page = await client.send(
        new ListSecretsCommand({
          MaxResults: 3,
          Filters: [{ Key: "name", Values: [base] }],
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      seen.push(...(page.SecretList ?? []).map((s) => s.Name!));
      if ((page.SecretList ?? []).length === 0 && page.NextToken) emptyWithToken = true;
      NextToken = page.NextToken;
    } while (NextToken);
    assert.deepEqual(
      seen.sort(),
      Array.from({ length: 7 }, (_, i) => `${base}${i}`),
    );
    assert.ok(emptyWithToken, "a filtered view of a long list returns empty pages with NextToken");
    const tooMany = await rejection(client.send(new ListSecretsCommand({ MaxResults: 101 })));
    assert.equal(tooMany.name, "ValidationException");
    assert.match(tooMany.message, /Member must have value less than or equal to 100/);
    const badToken = await rejection(client.send(new ListSecretsCommand({ NextToken: "not-a-token" })));
    assert.equal(badToken.name, "InvalidNextTokenException");
  });

  it("lists versions with KmsKeyIds, hiding deprecated ones unless IncludeDeprecated", async () => {
    const name = `views-${run}/versions`;
    const { VersionId: v1 } = await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }));
    const { VersionId: v2 } = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: "S2", VersionStages: ["AWSPENDING"] }),
    );
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: "AWSPENDING",
        RemoveFromVersionId: v2,
      }),
    );
    await client.send(new GetSecretValueCommand({ SecretId: name }));
    const shown = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    assert.deepEqual(
      shown.Versions?.map((v) => v.VersionId),
      [v1],
    );
    assert.deepEqual(shown.Versions?.[0]?.KmsKeyIds, ["DefaultEncryptionKey"]);
    assert.ok(
      shown.Versions?.[0]?.LastAccessedDate instanceof Date,
      "accessed versions carry LastAccessedDate",
    );
    await client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    const versions = lastBody(responses).Versions as Array<Record<string, unknown>>;
    assert.deepEqual(
      versions.map((v) => v.VersionId),
      [v1, v2],
    );
    assert.equal("VersionStages" in versions[1]!, false);
  });

  it("schedules deletion: refuses use with AWS's text, hides from lists, blocks the name, and restores", async () => {
    const name = `views-${run}/deleted`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }));
    const deleted = await client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const days = ((deleted.DeletionDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    assert.ok(days > 6.99 && days <= 7, `DeletionDate is 7 days out, got ${days}`);
    const text = "You can't perform this operation on the secret because it was marked for deletion.";
    for (const call of [
      client.send(new GetSecretValueCommand({ SecretId: name })),
      client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2" })),
      client.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "k", Value: "v" }] })),
      client.send(new UntagResourceCommand({ SecretId: name, TagKeys: ["k"] })),
    ]) {
      const error = await rejection(call);
      assert.equal(error.name, "InvalidRequestException");
      assert.equal(error.message, text);
    }
    assert.ok((await client.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate instanceof Date);
    const listed = await client.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }] }));
    assert.equal(listed.SecretList?.length, 0);
    const planned = await client.send(
      new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: "name", Values: [name] }] }),
    );
    assert.equal(planned.SecretList?.length, 1);
    const recreate = await rejection(client.send(new CreateSecretCommand({ Name: name, SecretString: "S" })));
    assert.equal(
      recreate.message,
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
    await client.send(new RestoreSecretCommand({ SecretId: name }));
    assert.equal((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, "S1");
  });

  it("deletes at once with ForceDeleteWithoutRecovery, freeing the name for a secret with a new ARN", async () => {
    const name = `views-${run}/forced-${randomUUID()}`;
    const { ARN: first } = await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }));
    const both = await rejection(
      client.send(
        new DeleteSecretCommand({
          SecretId: name,
          ForceDeleteWithoutRecovery: true,
          RecoveryWindowInDays: 7,
        }),
      ),
    );
    assert.equal(both.name, "InvalidParameterException");
    const short = await rejection(
      client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 6 })),
    );
    assert.equal(short.message, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
    await client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    assert.equal(
      (await rejection(client.send(new DescribeSecretCommand({ SecretId: name })))).name,
      "ResourceNotFoundException",
    );
    const { ARN: second } = await client.send(new CreateSecretCommand({ Name: name, SecretString: "S2" }));
    assert.notEqual(second, first);
  });
});
