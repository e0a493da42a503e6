/**
 * SigV4 and IAM in the emulator, seen through the real AWS SDK v3 client: the signature is verified for real
 * (a wrong secret key, a body altered after signing, a skewed clock, a foreign region all fail as AWS fails
 * them), unknown keys are unrecognized, and a key's allow list yields AWS's AccessDeniedException.
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clientFor, lastBody, rejection, rewriteBody } from "./aws/sdk.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";

const key = (): { accessKeyId: string; secretAccessKey: string } => ({
  accessKeyId: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString("base64"),
});

describe("AWS Secrets Manager emulator: SigV4 and IAM", () => {
  const admin = key();
  const reader = key();
  const temporary = { ...key(), sessionToken: randomBytes(24).toString("base64") };
  let emulator: AwsEmulator;
  let secretArn: string;
  const name = `auth/${randomUUID()}`;

  before(async () => {
    emulator = await startAwsEmulator({
      accountId: "444455556666",
      credentials: [admin, { ...reader, allow: ["GetSecretValue"] }, temporary],
    });
    const { client } = clientFor(emulator);
    secretArn = (await client.send(new CreateSecretCommand({ Name: name, SecretString: "v" }))).ARN!;
  });
  after(() => emulator.stop());

  it("refuses an unknown access key with 400 UnrecognizedClientException", async () => {
    const { client, responses } = clientFor(emulator, { credentials: key() });
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));
    assert.equal(error.name, "UnrecognizedClientException");
    assert.equal(error.message, "The security token included in the request is invalid.");
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.deepEqual(lastBody(responses), {
      __type: "com.amazon.coral.service#UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    });
  });

  it("refuses a known key signed with the wrong secret with 400 InvalidSignatureException", async () => {
    const { client } = clientFor(emulator, {
      credentials: { ...admin, secretAccessKey: key().secretAccessKey },
    });
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));
    assert.equal(error.name, "InvalidSignatureException");
    assert.equal(
      error.message,
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
    assert.equal(error.$metadata.httpStatusCode, 400);
  });

  it("verifies the signature over the body actually received", async () => {
    const { client } = clientFor(emulator);
    rewriteBody(client, "signed", (body) => ({ ...body, SecretString: "w" })); // same length, other bytes
    const error = await rejection(
      client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "x" })),
    );
    assert.equal(error.name, "InvalidSignatureException");
    const { client: honest } = clientFor(emulator);
    assert.equal((await honest.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, "v");
  });

  it("refuses a request signed for another region", async () => {
    const { client } = clientFor(emulator, { region: "eu-west-1" });
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));
    assert.equal(error.name, "InvalidSignatureException");
    assert.equal(error.message, "Credential should be scoped to a valid region, not 'eu-west-1'.");
  });

  it("refuses a signature more than 5 minutes old, and the SDK corrects its clock from the Date header", async () => {
    const skewed = { systemClockOffset: -10 * 60_000 };
    const { client } = clientFor(emulator, skewed);
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));
    assert.equal(error.name, "InvalidSignatureException");
    assert.match(
      error.message,
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
    const { client: retrying } = clientFor(emulator, { ...skewed, maxAttempts: 2 });
    const got = await retrying.send(new GetSecretValueCommand({ SecretId: name }));
    assert.equal(got.SecretString, "v");
    assert.equal(got.$metadata.attempts, 2);
  });

  it("requires the session token of temporary credentials", async () => {
    const { sessionToken: _token, ...withoutToken } = temporary;
    const { client } = clientFor(emulator, { credentials: withoutToken });
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));
    assert.equal(error.name, "UnrecognizedClientException");
    const { client: complete } = clientFor(emulator, { credentials: temporary });
    assert.equal((await complete.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, "v");
  });

  it("refuses an operation outside the key's allow list with AWS's AccessDeniedException text", async () => {
    const { client, responses } = clientFor(emulator, { credentials: reader });
    assert.equal((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, "v");
    const error = await rejection(
      client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "x" })),
    );
    assert.equal(error.name, "AccessDeniedException");
    assert.equal(
      error.message,
      `User: arn:aws:iam::444455556666:user/test is not authorized to perform: secretsmanager:PutSecretValue on resource: ${secretArn} because no identity-based policy allows the secretsmanager:PutSecretValue action`,
    );
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.equal(lastBody(responses).__type, "com.amazon.coral.service#AccessDeniedException");
    const list = await rejection(client.send(new ListSecretsCommand({})));
    assert.match(list.message, /secretsmanager:ListSecrets on resource: \* because/);
  });

  it("needs an Authorization header at all", async () => {
    const { client } = clientFor(emulator, { credentials: { accessKeyId: "", secretAccessKey: "" } });
    client.middlewareStack.remove("httpSigningMiddleware");
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));
    assert.equal(error.name, "MissingAuthenticationTokenException");
  });
});
