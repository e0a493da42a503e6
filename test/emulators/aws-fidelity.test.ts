/**
 * Where the emulator used to answer differently from AWS Secrets Manager, through the real AWS SDK v3:
 * AWSCURRENT cannot be removed without being moved (UpdateSecretVersionStage), a PutSecretValue that moves
 * AWSCURRENT takes AWSPENDING off the version it leaves, DescribeSecret leaves out an empty Description, and
 * the version quota (API_PutSecretValue: unlabelled versions younger than 24 hours are never removed) ends in
 * LimitExceededException. hvac/boto3/aws CLI checks of the same rules are in real-clients.test.ts.
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clientFor, lastBody, rejection } from "./aws/sdk.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";

describe("AWS Secrets Manager emulator: rules found different from AWS", () => {
  let emulator: AwsEmulator;
  let client: SecretsManagerClient;
  let responses: ReturnType<typeof clientFor>["responses"];
  before(async () => {
    // The real 24-hour retention of unlabelled versions (the default).
    emulator = await startAwsEmulator();
    ({ client, responses } = clientFor(emulator));
  });
  after(() => emulator.stop());

  const create = async (): Promise<{ name: string; v1: string }> => {
    const name = `fidelity/${randomUUID()}`;
    const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }));
    return { name, v1: created.VersionId! };
  };
  const labels = async (name: string): Promise<Record<string, string[]>> =>
    (await client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};

  it("refuses to take AWSCURRENT off a version without moving it (InvalidParameterException, the text AWS sends)", async () => {
    const { name, v1 } = await create();
    const error = await rejection(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: "AWSCURRENT",
          RemoveFromVersionId: v1,
        }),
      ),
    );
    assert.equal(error.name, "InvalidParameterException");
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.equal(
      error.message,
      "You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.",
    );
    assert.deepEqual(await labels(name), { [v1]: ["AWSCURRENT"] }, "nothing changed");
  });

  it("takes AWSPENDING off the version AWSCURRENT leaves on a default PutSecretValue, e.g. after a promote cut between its two calls", async () => {
    const { name, v1 } = await create();
    const vR = (
      await client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: "S2", VersionStages: ["AWSPENDING"] }),
      )
    ).VersionId!;
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: "AWSCURRENT",
        MoveToVersionId: vR,
        RemoveFromVersionId: v1,
      }),
    );
    assert.deepEqual(await labels(name), { [v1]: ["AWSPREVIOUS"], [vR]: ["AWSCURRENT", "AWSPENDING"] });
    const v3 = (await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S3" })))
      .VersionId!;
    assert.deepEqual(await labels(name), { [vR]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
  });

  it("keeps custom labels on the version AWSCURRENT leaves (only AWSPENDING goes)", async () => {
    const { name, v1 } = await create();
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "KEEP", MoveToVersionId: v1 }),
    );
    const v2 = (await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2" })))
      .VersionId!;
    assert.deepEqual(await labels(name), { [v1]: ["AWSPREVIOUS", "KEEP"], [v2]: ["AWSCURRENT"] });
  });

  it("leaves an empty Description out of DescribeSecret, as it leaves out an absent one", async () => {
    const name = `fidelity/${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1", Description: "" }));
    await client.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal("Description" in lastBody(responses), false);
  });

  it("refuses the 101st version with LimitExceededException while the unlabelled ones are younger than 24 hours, changing nothing", async () => {
    const { name, v1 } = await create();
    for (let i = 0; i < 99; i++) {
      await client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: `S${i}`, VersionStages: ["ROLL"] }),
      );
    }
    const all = async () =>
      (await client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true })))
        .Versions ?? [];
    assert.equal((await all()).length, 100);
    const before = await labels(name);
    const error = await rejection(
      client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "one too many" })),
    );
    assert.equal(error.name, "LimitExceededException");
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.equal((await all()).length, 100);
    assert.deepEqual(await labels(name), before, "AWSCURRENT did not move");
    assert.deepEqual(before[v1], ["AWSCURRENT"]);
  });
});
