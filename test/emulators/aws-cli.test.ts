/**
 * The AWS Secrets Manager emulator driven by the AWS CLI v2 (Debian awscli, run as /usr/bin/aws: another
 * `aws` may come first on PATH), its output checked against AWS's documented behaviour: the CLI's error
 * line and exit code for a service error (254), the staging-label rules, an empty Description left out,
 * and the CLI's own paginator (--max-items / --starting-token) over ListSecrets. Secrets are set up with the
 * SDK (the CLI starts slowly); the calls under test are the CLI's.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { after, before, describe, it } from "node:test";
import { clientFor } from "./aws/sdk.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/server.js";
import { AWS_CLI, run } from "./clients/run.js";

describe("AWS Secrets Manager emulator through the AWS CLI v2", () => {
  let emulator: AwsEmulator;
  let sdk: SecretsManagerClient;
  let home: string;
  const prefix = `cli-${randomBytes(3).toString("hex")}`;

  before(async () => {
    emulator = await startAwsEmulator();
    sdk = clientFor(emulator).client;
    home = await mkdtemp(join(tmpdir(), "certrotor-awscli-"));
  });
  after(async () => {
    sdk?.destroy();
    await emulator?.stop();
    await rm(home, { recursive: true, force: true });
  });

  /** `aws secretsmanager <args>` against the emulator, no profile, the CLI's default retries, JSON out. */
  const aws = (...args: string[]) =>
    run(
      AWS_CLI,
      ["secretsmanager", ...args, "--endpoint-url", emulator.url, "--output", "json", "--no-cli-pager"],
      {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: home,
          AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: emulator.credentials.secretAccessKey,
          AWS_DEFAULT_REGION: emulator.region,
          AWS_CONFIG_FILE: join(home, "none"),
          AWS_SHARED_CREDENTIALS_FILE: join(home, "none"),
          AWS_EC2_METADATA_DISABLED: "true",
          NO_PROXY: "127.0.0.1,localhost",
        },
      },
    );
  const create = async (name: string): Promise<string> =>
    (await sdk.send(new CreateSecretCommand({ Name: name, SecretString: "S1" }))).VersionId!;
  const json = async (...args: string[]): Promise<Record<string, unknown>> => {
    const result = await aws(...args);
    assert.equal(result.code, 0, `aws ${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  it("is Debian's AWS CLI v2", async () => {
    const version = await run(AWS_CLI, ["--version"]);
    assert.match(version.stdout + version.stderr, /^aws-cli\/2\./);
  });

  it("reports a service error as AWS's code and text on stderr with exit code 254: removing AWSCURRENT without moving it", async () => {
    const name = `${prefix}/labels`;
    const v1 = await create(name);
    const refused = await aws(
      "update-secret-version-stage",
      "--secret-id",
      name,
      "--version-stage",
      "AWSCURRENT",
      "--remove-from-version-id",
      v1,
    );
    assert.equal(refused.code, 254, "a service error (docs: Command line return codes)");
    assert.equal(
      refused.stderr.trim(),
      "An error occurred (InvalidParameterException) when calling the UpdateSecretVersionStage operation: You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.",
    );
    const missing = await aws("get-secret-value", "--secret-id", name, "--version-stage", "AWSPENDING");
    assert.equal(missing.code, 254);
    assert.equal(
      missing.stderr.trim(),
      "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    );
  });

  it("lists versions with their labels, deprecated ones without a VersionStages key (AWS-validated)", async () => {
    const name = `${prefix}/versions`;
    const v1 = await create(name);
    const v2 = (await sdk.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2" }))).VersionId!;
    const v3 = (await json("put-secret-value", "--secret-id", name, "--secret-string", "S3"))
      .VersionId as string;
    const listed = (await json("list-secret-version-ids", "--secret-id", name, "--include-deprecated"))
      .Versions as Array<Record<string, unknown>>;
    const byId = Object.fromEntries(listed.map((v) => [v.VersionId, v.VersionStages]));
    assert.deepEqual(byId, { [v1]: undefined, [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
    const described = await json("describe-secret", "--secret-id", name);
    assert.deepEqual(described.VersionIdsToStages, { [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
  });

  it("leaves an empty Description out of describe-secret", async () => {
    const name = `${prefix}/empty-description`;
    await json("create-secret", "--name", name, "--secret-string", "S1", "--description", "");
    const described = await json("describe-secret", "--secret-id", name);
    assert.equal("Description" in described, false);
  });

  it("pages list-secrets with the CLI's paginator (--max-items, --starting-token), each secret once", async () => {
    const names = [0, 1, 2, 3, 4].map((i) => `${prefix}/paged/${i}`);
    for (const name of names) await create(name);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await json(
        "list-secrets",
        "--filters",
        `Key=name,Values=${prefix}/paged/`,
        "--max-items",
        "2",
        "--page-size",
        "2",
        ...(token ? ["--starting-token", token] : []),
      );
      seen.push(...(page.SecretList as Array<{ Name: string }>).map((entry) => entry.Name));
      token = page.NextToken as string | undefined;
      pages++;
      assert.ok(pages < 50, "the paginator ends");
    } while (token);
    assert.deepEqual(seen.sort(), names);
  });
});
