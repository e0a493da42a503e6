/**
 * infra/aws/certrotor-iam-policy.json is least privilege: its actions are exactly the Secrets Manager
 * commands the adapter's source sends (found by scanning it, so a new call breaks this test until the
 * policy grants it); every action that supports resource-level permissions is limited to the certrotor/
 * ARNs and the certrotor=managed tag; and the AWS store, run through a rotation's calls against the AWS
 * emulator with a key allowed exactly those actions, is refused nothing, and is refused without any one.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type AwsStoreConfig, storeSchema } from "../../src/config/schema.js";
import { isCertrotorError } from "../../src/errors.js";
import { createAwsStore } from "../../src/stores/aws.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { Material } from "../../src/stores/types.js";
import { type AwsEmulator, startAwsEmulator } from "../emulators/aws/server.js";
import { aCa, aClientCert } from "../fixtures/pki.js";
import { randomKeys } from "../stores/aws-fixture.js";
import { REPO, repoFile } from "./parse.js";

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}
const policy = JSON.parse(repoFile("infra/aws/certrotor-iam-policy.json")) as {
  Version: string;
  Statement: Statement[];
};
const granted = policy.Statement.flatMap((s) => s.Action);
const operations = granted.map((action) => action.replace(/^secretsmanager:/, ""));
const TAG = { key: "certrotor", value: "managed" };

/** Every src/ file that imports an AWS SDK, and the `new XxxCommand(` each sends. */
function sdkCallers(): Map<string, string[]> {
  const callers = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const text = repoFile(path);
        if (!/from "@aws-sdk\//.test(text)) continue;
        callers.set(
          path,
          [...text.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!),
        );
      }
    }
  };
  walk("src");
  return callers;
}

/** IAM's wildcard match: `*` any run of characters, `?` one. */
const iamMatches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  ).test(value);

let emulator: AwsEmulator;
let admin: SecretsManagerClient;
let runs = 0;
const adminKeys = randomKeys();
/** One key per allow list the tests use (the emulator learns its keys at start). */
const keysFor = new Map<string, ReturnType<typeof randomKeys>>();
const allowLists = [operations, ...operations.map((op) => operations.filter((o) => o !== op))];

async function material(): Promise<Material> {
  const ca = await aCa();
  const cert = await aClientCert({ ca });
  return {
    clientId: "acme",
    certPem: cert.certPem,
    chainPem: ca.certPem,
    keyPem: cert.keyPem,
    fingerprint: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
  };
}

/** A rotation's store calls (discover, read, stage, promote, previous, drop) with a key allowed `allow`. */
async function exercise(allow: string[]): Promise<void> {
  const path = `certrotor/acme-${++runs}`;
  await admin.send(
    new CreateSecretCommand({
      Name: path,
      SecretString: JSON.stringify(encodeMaterial(await material())),
      Tags: [{ Key: TAG.key, Value: TAG.value }],
    }),
  );
  const keys = keysFor.get(allow.join(","));
  assert.ok(keys, `a key for ${allow.join(",")}`);
  const config = storeSchema.parse({
    kind: "aws",
    region: emulator.region,
    endpoint: emulator.url,
    credentials: keys,
    maxAttempts: 1,
  }) as AwsStoreConfig;
  const store = await createAwsStore("policy", config);
  try {
    const ref = { credentialId: "acme", path };
    const listed = await store.list({ prefix: "certrotor/", tag: TAG });
    assert.ok(listed.paths.includes(path), "discovery finds the tagged secret");
    const current = await store.readCurrent(ref);
    assert.equal(await store.readPending(ref), null);
    await store.writePending(ref, `r${runs}`, await material());
    await store.promote(ref, `r${runs}`, current.version);
    assert.equal((await store.readPrevious(ref))?.material.fingerprint, current.material.fingerprint);
    await store.writePending(ref, `r${runs}-again`, await material());
    await store.dropPending(ref, `r${runs}-again`);
  } finally {
    await store.close();
  }
}

describe("the IAM policy (infra/aws/certrotor-iam-policy.json)", () => {
  before(async () => {
    const credentials = allowLists.map((allow) => {
      const keys = randomKeys();
      keysFor.set(allow.join(","), keys);
      return { ...keys, allow };
    });
    emulator = await startAwsEmulator({ credentials: [adminKeys, ...credentials], retainUnlabelledMs: 0 });
    admin = new SecretsManagerClient({
      region: emulator.region,
      endpoint: emulator.url,
      credentials: { ...adminKeys },
    });
  });
  after(async () => {
    admin.destroy();
    await emulator.stop();
  });

  it("allows exactly the Secrets Manager commands the AWS adapter's source sends", () => {
    const callers = sdkCallers();
    for (const file of callers.keys())
      assert.match(file, /^src\/stores\/aws[\w-]*\.ts$/, `${file} uses an AWS SDK`);
    const sent = new Set([...callers.values()].flat());
    assert.ok(sent.size > 0);
    assert.deepEqual(operations.slice().sort(), [...sent].sort());
    assert.ok(granted.every((action) => action.startsWith("secretsmanager:") && !action.includes("*")));
  });

  it("limits every action but ListSecrets to certrotor/ secrets tagged certrotor=managed", () => {
    assert.equal(policy.Version, "2012-10-17");
    for (const statement of policy.Statement) {
      assert.equal(statement.Effect, "Allow");
      if (statement.Resource === "*") {
        // ListSecrets has no resource-level permissions: AWS only accepts "*" for it
        assert.deepEqual(statement.Action, ["secretsmanager:ListSecrets"]);
        continue;
      }
      assert.equal(statement.Resource, "arn:aws:secretsmanager:REGION:ACCOUNT_ID:secret:certrotor/*");
      assert.deepEqual(statement.Condition, { StringEquals: { [`aws:ResourceTag/${TAG.key}`]: TAG.value } });
    }
    // the ARN AWS gives a secret named certrotor/<id> (a 6-character suffix added) is inside the pattern
    const pattern = (policy.Statement.find((s) => s.Resource !== "*")!.Resource as string)
      .replace("REGION", emulator.region)
      .replace("ACCOUNT_ID", emulator.accountId);
    assert.ok(
      iamMatches(
        pattern,
        `arn:aws:secretsmanager:${emulator.region}:${emulator.accountId}:secret:certrotor/acme-AbC123`,
      ),
    );
    assert.ok(
      !iamMatches(
        pattern,
        `arn:aws:secretsmanager:${emulator.region}:${emulator.accountId}:secret:prod/db-AbC123`,
      ),
    );
  });

  it("lets the AWS store make every call of a rotation", async () => {
    await exercise(operations);
  });

  it("is needed whole: without any one action the same run is refused", async () => {
    for (const operation of operations) {
      await assert.rejects(
        exercise(operations.filter((o) => o !== operation)),
        (error: unknown) => isCertrotorError(error, "ACCESS_DENIED"),
        `without ${operation}`,
      );
    }
  });
});
