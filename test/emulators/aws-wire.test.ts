/**
 * The AWS Secrets Manager emulator on the wire, seen through the real AWS SDK v3 client: headers, JSON 1.1
 * error shapes, timestamps, ARNs, limits, request logs, and the faults it injects (which the SDK must retry
 * exactly as it retries the real service).
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clientFor, lastBody, rejection } from "./aws/sdk.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";

describe("AWS Secrets Manager emulator: wire protocol", () => {
  let emulator: AwsEmulator;
  before(async () => {
    emulator = await startAwsEmulator({ accountId: "111122223333", region: "eu-central-1" });
  });
  after(() => emulator.stop());
  const unique = (): string => `wire/${randomUUID()}`;

  it("answers JSON 1.1 with an x-amzn-RequestId the SDK reports, and epoch-second timestamps it parses as Dates", async () => {
    const { client, responses } = clientFor(emulator);
    const name = unique();
    const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: "s1" }));
    const raw = responses.at(-1)!;
    assert.equal(raw.status, 200);
    assert.equal(raw.headers["content-type"], "application/x-amz-json-1.1");
    assert.match(raw.headers["x-amzn-requestid"] ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(created.$metadata.requestId, raw.headers["x-amzn-requestid"]);
    assert.ok(Math.abs(Date.parse(raw.headers.date ?? "") - Date.now()) < 60_000, "Date is the real time");

    const got = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const body = lastBody(responses);
    assert.equal(typeof body.CreatedDate, "number", "CreatedDate is an epoch-seconds number on the wire");
    assert.ok(got.CreatedDate instanceof Date);
    assert.ok(Math.abs(got.CreatedDate.getTime() - Date.now()) < 60_000);
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    for (const date of [described.CreatedDate, described.LastChangedDate, described.LastAccessedDate]) {
      assert.ok(date instanceof Date);
    }
    assert.equal(
      (described.LastAccessedDate?.getTime() ?? 1) % 86_400_000,
      0,
      "LastAccessedDate has day resolution",
    );
  });

  it("names secrets by ARN with six random characters, finds them by full or partial ARN", async () => {
    const { client } = clientFor(emulator);
    const name = unique();
    const { ARN } = await client.send(new CreateSecretCommand({ Name: name, SecretString: "s" }));
    const prefix = `arn:aws:secretsmanager:eu-central-1:111122223333:secret:${name}`;
    assert.match(ARN ?? "", new RegExp(`^${prefix.replaceAll("/", "\\/")}-[A-Za-z0-9]{6}$`));
    assert.equal((await client.send(new GetSecretValueCommand({ SecretId: ARN }))).Name, name);
    assert.equal((await client.send(new GetSecretValueCommand({ SecretId: prefix }))).ARN, ARN);
  });

  it("answers a missing secret with HTTP 400, __type ResourceNotFoundException and AWS's Message", async () => {
    const { client, responses } = clientFor(emulator);
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: unique() })));
    assert.equal(error.name, "ResourceNotFoundException");
    assert.equal(error.message, "Secrets Manager can't find the specified secret.");
    assert.equal(error.$fault, "client");
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.deepEqual(lastBody(responses), {
      __type: "ResourceNotFoundException",
      Message: "Secrets Manager can't find the specified secret.",
    });
  });

  it("refuses names outside AWS's character set and values over 65,536 bytes, as AWS words it", async () => {
    const { client, responses } = clientFor(emulator);
    const badName = await rejection(
      client.send(new CreateSecretCommand({ Name: "Inv Name", SecretString: "s" })),
    );
    assert.equal(badName.name, "ValidationException");
    assert.equal(
      badName.message,
      "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
    );
    assert.equal(responses.at(-1)?.status, 400);
    const name = unique();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "x".repeat(65_536) }));
    const tooBig = await rejection(
      client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "x".repeat(65_537) })),
    );
    assert.equal(tooBig.name, "ValidationException");
    assert.match(tooBig.message, /Member must have length less than or equal to 65536/);
  });

  it("logs method, target and status of every request, never a secret value", async () => {
    const { client } = clientFor(emulator);
    const name = unique();
    const value = `value-${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    await rejection(client.send(new GetSecretValueCommand({ SecretId: `${name}-missing` })));
    assert.ok(emulator.logs.includes("POST secretsmanager.CreateSecret 200"));
    assert.ok(emulator.logs.includes("POST secretsmanager.GetSecretValue 400 ResourceNotFoundException"));
    assert.ok(!emulator.logs.join("\n").includes(value));
    assert.ok(!emulator.logs.join("\n").includes(emulator.credentials.secretAccessKey));
  });
});

describe("AWS Secrets Manager emulator: injected faults", () => {
  let emulator: AwsEmulator;
  before(async () => {
    emulator = await startAwsEmulator();
  });
  after(() => emulator.stop());

  it("answers InternalServiceError with 500 and ServiceUnavailable with 503, which the SDK retries", async () => {
    const { client, responses } = clientFor(emulator);
    emulator.setFaults({ errorRate: 1 });
    const error = await rejection(client.send(new ListSecretVersionIdsCommand({ SecretId: "any" })));
    assert.ok(["InternalServiceError", "ServiceUnavailable"].includes(error.name), error.name);
    assert.equal(error.$fault, "server");
    assert.ok([500, 503].includes(error.$metadata.httpStatusCode ?? 0));
    const raw = responses.at(-1)!;
    if (raw.status === 500) {
      assert.deepEqual(JSON.parse(raw.body), {
        __type: "InternalServiceError",
        Message: "An error occurred on the server side.",
      });
    }
    emulator.setFaults({ errorRate: 1, maxConsecutive: 2 });
    const { client: patient } = clientFor(emulator, { maxAttempts: 3 });
    const created = await patient.send(
      new CreateSecretCommand({ Name: `fault/${randomUUID()}`, SecretString: "s" }),
    );
    assert.equal(created.$metadata.attempts, 3, "two 5xx answers, then success, all inside one SDK call");
    emulator.setFaults({});
  });

  it("throttles with 400 ThrottlingException 'Rate exceeded', which the SDK retries as throttling", async () => {
    const { client, responses } = clientFor(emulator);
    emulator.setFaults({ throttleRate: 1 });
    const error = await rejection(client.send(new ListSecretVersionIdsCommand({ SecretId: "any" })));
    assert.equal(error.name, "ThrottlingException");
    assert.equal(error.message, "Rate exceeded");
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.equal(lastBody(responses).__type, "com.amazon.coral.availability#ThrottlingException");
    emulator.setFaults({ throttleRate: 1, maxConsecutive: 1 });
    const { client: patient } = clientFor(emulator, { maxAttempts: 2 });
    const created = await patient.send(
      new CreateSecretCommand({ Name: `fault/${randomUUID()}`, SecretString: "s" }),
    );
    assert.equal(created.$metadata.attempts, 2);
    emulator.setFaults({});
  });

  it("drops connections, which the SDK sees as a reset and retries", async () => {
    emulator.setFaults({ dropRate: 1 });
    const { client } = clientFor(emulator);
    const error = await rejection(client.send(new ListSecretVersionIdsCommand({ SecretId: "any" })));
    assert.equal((error as Error & { code?: string }).code, "ECONNRESET");
    emulator.setFaults({ dropRate: 1, maxConsecutive: 1 });
    const { client: patient } = clientFor(emulator, { maxAttempts: 2 });
    const created = await patient.send(
      new CreateSecretCommand({ Name: `fault/${randomUUID()}`, SecretString: "s" }),
    );
    assert.equal(created.$metadata.attempts, 2);
    assert.ok(emulator.logs.includes("POST secretsmanager.CreateSecret dropped (fault)"));
    emulator.setFaults({});
  });

  it("loses the answer after making the change, and the SDK's retry with the same token is the same version", async () => {
    const { client } = clientFor(emulator, { maxAttempts: 2 });
    const name = `fault/${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "s1" }));
    emulator.setFaults({ dropAfterRate: 1, maxConsecutive: 1, operations: ["PutSecretValue"] });
    const put = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "s2" }));
    emulator.setFaults({});
    assert.equal(put.$metadata.attempts, 2);
    assert.ok(emulator.logs.includes("POST secretsmanager.PutSecretValue dropped after commit (fault)"));
    const versions = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
    );
    assert.equal(versions.Versions?.length, 2, "one version per distinct token, the retry made none");
    assert.deepEqual(put.VersionStages, ["AWSCURRENT"]);
  });

  it("gives the same faults for the same seed and request order", async () => {
    const { client } = clientFor(emulator);
    const outcomes = async (): Promise<string[]> => {
      emulator.setFaults({ seed: 42, errorRate: 0.3, throttleRate: 0.2 });
      const out: string[] = [];
      for (let i = 0; i < 12; i++) {
        out.push(
          await client.send(new ListSecretVersionIdsCommand({ SecretId: "none" })).then(
            () => "ok",
            (e: Error) => e.name,
          ),
        );
      }
      return out;
    };
    const first = await outcomes();
    assert.deepEqual(await outcomes(), first);
    assert.ok(
      first.some((o) => o !== "ResourceNotFoundException"),
      "some requests were faulted",
    );
    emulator.setFaults({});
  });
});
