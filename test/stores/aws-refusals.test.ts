/**
 * What the AWS store refuses instead of doing harm, through the real AWS SDK v3 and the emulator:
 * - staging into a secret that has no value yet: AWS would label that first version AWSCURRENT whatever
 *   stages are asked for (API_PutSecretValue; protocols.md §4.3), so unverified material would go live at
 *   stage. The store refuses with NOT_FOUND and writes nothing;
 * - a Secrets Manager quota (LimitExceededException: here the version quota, 100 versions none of which may
 *   be removed within 24 hours): CONFIG_INVALID, not retryable, and not retried by the SDK either (it counts
 *   the code among throttling errors).
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createAwsStore } from "../../src/stores/aws.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { Material, SecretStore } from "../../src/stores/types.js";
import { expectCode } from "../contract/secret-store.contract.js";
import { type AwsEmulator, startAwsEmulator } from "../emulators/aws/server.js";
import { aCa, type PkiMaterial } from "../fixtures/pki.js";
import { anAwsMaterial, awsStoreConfig } from "./aws-fixture.js";

describe("AWS store: refusals", () => {
  let emulator: AwsEmulator;
  let admin: SecretsManagerClient;
  let store: SecretStore;
  let ca: PkiMaterial;
  before(async () => {
    ca = await aCa();
    // AWS's own retention: unlabelled versions younger than 24 hours are never removed.
    emulator = await startAwsEmulator();
    const base = { region: emulator.region, endpoint: emulator.url, credentials: emulator.credentials };
    admin = new SecretsManagerClient({ ...base, credentials: { ...emulator.credentials }, maxAttempts: 1 });
    store = await createAwsStore(
      "refusals",
      awsStoreConfig({ ...base, credentials: { ...emulator.credentials }, maxAttempts: 5 }),
    );
  });
  after(async () => {
    await store.close();
    admin.destroy();
    await emulator.stop();
  });

  const aMaterial = (rotationId?: string): Promise<Material> => anAwsMaterial(ca, rotationId);
  const versions = async (name: string) =>
    (await admin.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true })))
      .Versions ?? [];

  it("refuses to stage into a secret without a value (it would become AWSCURRENT at once), writing nothing", async () => {
    const name = `refusals/${randomUUID()}`;
    await admin.send(new CreateSecretCommand({ Name: name }));
    const ref = { credentialId: "empty", path: name };
    const rotationId = randomUUID();
    const from = emulator.logs.length;
    const error = await expectCode(
      store.writePending(ref, rotationId, await aMaterial(rotationId)),
      "NOT_FOUND",
    );
    assert.match(
      error.message,
      /has no current value, and staging into it would make the new material current at once, unverified/,
    );
    assert.match(
      (error as { hint?: string }).hint ?? "",
      /store the credential's current material in the secret first/,
    );
    assert.deepEqual(await versions(name), [], "no version was created");
    assert.ok(
      emulator.logs.slice(from).every((line) => !line.includes("PutSecretValue")),
      "no PutSecretValue was sent",
    );
    await expectCode(store.readCurrent(ref), "NOT_FOUND");
  });

  it("maps LimitExceededException (the version quota) to CONFIG_INVALID, not retryable, sent once despite maxAttempts 5", async () => {
    const name = `refusals/${randomUUID()}`;
    const m1 = await aMaterial();
    await admin.send(
      new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(encodeMaterial(m1)) }),
    );
    for (let i = 0; i < 99; i++) {
      await admin.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}`, VersionStages: ["OLD"] }),
      );
    }
    const ref = { credentialId: "full", path: name };
    const rotationId = randomUUID();
    const from = emulator.logs.length;
    const error = await expectCode(
      store.writePending(ref, rotationId, await aMaterial(rotationId)),
      "CONFIG_INVALID",
    );
    assert.equal((error as { retryable?: boolean }).retryable, false);
    assert.match(
      error.message,
      /PutSecretValue on "refusals\/[^"]+" hit a Secrets Manager quota: LimitExceededException/,
    );
    assert.match((error as { hint?: string }).hint ?? "", /retrying does not help/);
    assert.deepEqual(
      emulator.logs.slice(from).filter((line) => line.includes("PutSecretValue")),
      ["POST secretsmanager.PutSecretValue 400 LimitExceededException"],
      "the SDK did not retry it as throttling",
    );
    assert.deepEqual((await store.readCurrent(ref)).material, m1);
    assert.equal(await store.readPending(ref), null);
  });
});
