/**
 * The emulator's stale-read fault mode, through the real AWS SDK v3: AWS documents Secrets Manager as
 * eventually consistent (a read right after a write may miss it), so for a configured window after a write a
 * read may answer the secret as it was before that write, while writes are checked against the latest state
 * (an UpdateSecretVersionStage naming the version a stale read does not show yet succeeds).
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clientFor, rejection } from "./aws/sdk.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";

describe("AWS Secrets Manager emulator: stale reads", () => {
  let emulator: AwsEmulator;
  let client: SecretsManagerClient;
  before(async () => {
    // A window far longer than any test step: every read inside it is stale, deterministically.
    emulator = await startAwsEmulator({ faults: { staleReadMs: 60_000 } });
    client = clientFor(emulator).client;
  });
  after(() => emulator.stop());

  const current = async (name: string) =>
    client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSCURRENT" }));

  it("answers a read inside the window with the state before the last write, and checks writes against the latest", async () => {
    const name = `stale/${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }));
    const missing = await rejection(current(name));
    assert.equal(missing.name, "ResourceNotFoundException", "a secret just created may not be found yet");
    emulator.setFaults({ staleReadMs: 0 });
    const v1 = (await current(name)).VersionId!;
    emulator.setFaults({ staleReadMs: 60_000 });
    const v2 = (
      await client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: "S2", VersionStages: ["AWSPENDING"] }),
      )
    ).VersionId!;
    const pending = await rejection(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPENDING" })),
    );
    assert.equal(pending.name, "ResourceNotFoundException", "the staged version is not visible yet");
    // The write is checked against the latest state: v2 exists, AWSCURRENT is on v1.
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: "AWSCURRENT",
        MoveToVersionId: v2,
        RemoveFromVersionId: v1,
      }),
    );
    const seen = await current(name);
    assert.equal(seen.VersionId, v1, "the read still shows the state before the move");
    assert.equal(seen.SecretString, "S1");
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    assert.deepEqual(described.VersionIdsToStages, { [v1]: ["AWSCURRENT"], [v2]: ["AWSPENDING"] });
  });

  it("shows the latest state once the window has passed (settled() waits for the emulator's own deadline)", async () => {
    emulator.setFaults({ staleReadMs: 150 });
    const name = `stale/${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }));
    const listed = await client.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }] }));
    assert.deepEqual(listed.SecretList, [], "ListSecrets misses it too");
    await emulator.settled(name);
    assert.equal((await current(name)).SecretString, "S1");
    const again = await client.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }] }));
    assert.deepEqual(
      again.SecretList?.map((entry) => entry.Name),
      [name],
    );
  });

  it("serves only a share of reads stale with staleReadRate, the same ones for the same seed", async () => {
    const name = `stale/${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }));
    const outcomes = async (): Promise<string> => {
      emulator.setFaults({ staleReadMs: 60_000, staleReadRate: 0.5, seed: 9 });
      await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: `S-${randomUUID()}` }));
      let seen = "";
      for (let i = 0; i < 24; i++) seen += (await current(name)).SecretString === "S1" ? "o" : "n";
      return seen;
    };
    const first = await outcomes();
    assert.match(first, /o/, "some reads stale");
    assert.match(first, /n/, "some reads current");
    emulator.setFaults({ staleReadMs: 0 });
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S1" }));
    assert.equal(await outcomes(), first, "replayable");
  });
});
