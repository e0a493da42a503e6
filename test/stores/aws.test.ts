/**
 * The AWS store's own behaviour beyond the shared contract, through the real AWS SDK v3 client and the
 * Secrets Manager emulator: how a rotation maps onto AWSPENDING / AWSCURRENT / AWSPREVIOUS, the
 * ClientRequestToken it derives, recovery from an interrupted promote, foreign pending versions, deletion,
 * refusals, unreachable endpoints, the default credential chain, tag listing and its log lines.
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { clientRequestToken, createAwsStore } from "../../src/stores/aws.js";
import type { CredentialRef, Material } from "../../src/stores/types.js";
import type { CertrotorError } from "../../src/errors.js";
import { expectCode as expectAnyCode } from "../contract/secret-store.contract.js";
import { aCa, type PkiMaterial } from "../fixtures/pki.js";
import {
  anAwsMaterial,
  type AwsFixture,
  awsStoreConfig,
  randomKeys,
  startAwsFixture,
} from "./aws-fixture.js";

const expectCode = async (...args: Parameters<typeof expectAnyCode>): Promise<CertrotorError> =>
  (await expectAnyCode(...args)) as CertrotorError;

describe("AWS Secrets Manager store", () => {
  let f: AwsFixture;
  let ca: PkiMaterial;
  const lines: object[] = [];
  const run = randomBytes(3).toString("hex");
  let n = 0;
  before(async () => {
    ca = await aCa();
    f = await startAwsFixture({ logger: (line) => lines.push(line) });
  });
  after(async () => {
    await f.store.close();
    await f.cleanup();
  });

  const aRef = (): CredentialRef => ({ credentialId: `c${++n}`, path: `aws-${run}/c${n}` });
  const aMaterial = (rotationId?: string): Promise<Material> => anAwsMaterial(ca, rotationId);
  const seeded = async (): Promise<{ ref: CredentialRef; m1: Material; v1: string }> => {
    const ref = aRef();
    const m1 = await aMaterial();
    await f.seed(ref, m1);
    return { ref, m1, v1: (await f.store.readCurrent(ref)).version };
  };
  const stages = async (ref: CredentialRef): Promise<Record<string, string[]>> =>
    (await f.admin.send(new DescribeSecretCommand({ SecretId: ref.path }))).VersionIdsToStages ?? {};

  it("stages under AWSPENDING named by the rotation id, and promote leaves the old version AWSPREVIOUS only", async () => {
    const { ref, v1 } = await seeded();
    const rotationId = randomUUID();
    const staged = await f.store.writePending(ref, rotationId, await aMaterial(rotationId));
    assert.equal(
      staged.version,
      rotationId,
      "a UUID rotation id is itself the ClientRequestToken and VersionId",
    );
    assert.deepEqual(await stages(ref), { [v1]: ["AWSCURRENT"], [rotationId]: ["AWSPENDING"] });
    await f.store.promote(ref, rotationId, v1);
    assert.deepEqual(await stages(ref), { [v1]: ["AWSPREVIOUS"], [rotationId]: ["AWSCURRENT"] });
  });

  it("derives a 64-character token from a rotation id shorter than AWS's 32-character minimum, the same on retry", async () => {
    const { ref } = await seeded();
    const rotationId = "01J9ZQ4W7K3M5N8P2R6T0V1X3Y"; // a ULID: 26 characters
    const token = clientRequestToken(rotationId);
    assert.match(token, /^certrotor-[0-9a-f]{54}$/);
    assert.equal(clientRequestToken(rotationId), token);
    const m2 = await aMaterial(rotationId);
    assert.equal((await f.store.writePending(ref, rotationId, m2)).version, token);
    assert.equal((await f.store.writePending(ref, rotationId, m2)).version, token);
    assert.equal((await f.store.readPending(ref))?.rotationId, rotationId);
  });

  it("finishes a promote cut between moving AWSCURRENT and removing AWSPENDING", async () => {
    const { ref, v1 } = await seeded();
    const rotationId = randomUUID();
    const m2 = await aMaterial(rotationId);
    await f.store.writePending(ref, rotationId, m2);
    await f.admin.send(
      new UpdateSecretVersionStageCommand({
        SecretId: ref.path,
        VersionStage: "AWSCURRENT",
        MoveToVersionId: rotationId,
        RemoveFromVersionId: v1,
      }),
    );
    assert.equal(await f.store.readPending(ref), null, "AWSPENDING on the current version is not pending");
    const promoted = await f.store.promote(ref, rotationId, v1);
    assert.deepEqual(promoted.material, m2);
    assert.deepEqual(await stages(ref), { [v1]: ["AWSPREVIOUS"], [rotationId]: ["AWSCURRENT"] });
  });

  it("puts AWSPENDING back when a rotation stages again the material whose pending was dropped", async () => {
    const { ref } = await seeded();
    const rotationId = randomUUID();
    const m2 = await aMaterial(rotationId);
    await f.store.writePending(ref, rotationId, m2);
    await f.store.dropPending(ref, rotationId);
    assert.equal(await f.store.readPending(ref), null);
    await f.store.writePending(ref, rotationId, m2); // the service ignores the repeated token, labels included
    assert.deepEqual((await f.store.readPending(ref))?.material, m2);
  });

  it("reports AWSPENDING staged by another tool as PENDING_CONFLICT until it is dropped", async () => {
    const { ref } = await seeded();
    await f.admin.send(
      new PutSecretValueCommand({
        SecretId: ref.path,
        SecretString: '{"password":"lambda-rotation"}',
        VersionStages: ["AWSPENDING"],
      }),
    );
    await expectCode(f.store.readPending(ref), "PENDING_CONFLICT", ["lambda-rotation"]);
    const rotationId = randomUUID();
    const m2 = await aMaterial(rotationId);
    await expectCode(f.store.writePending(ref, rotationId, m2), "PENDING_CONFLICT");
    await f.store.dropPending(ref, rotationId); // another rotation's pending: left alone
    await expectCode(f.store.readPending(ref), "PENDING_CONFLICT");
    await f.store.dropPending(ref);
    await f.store.writePending(ref, rotationId, m2);
    assert.equal((await f.store.readPending(ref))?.rotationId, rotationId);
  });

  it("reads a secret scheduled for deletion as NOT_FOUND", async () => {
    const { ref } = await seeded();
    await f.admin.send(new DeleteSecretCommand({ SecretId: ref.path, RecoveryWindowInDays: 7 }));
    const error = await expectCode(f.store.readCurrent(ref), "NOT_FOUND");
    assert.match(error.message, /scheduled for deletion/);
    await expectCode(f.store.readPending(ref), "NOT_FOUND");
  });

  it("reports a binary or non-JSON secret as MATERIAL_INVALID without echoing it", async () => {
    const binary = aRef();
    await f.admin.send(
      new CreateSecretCommand({ Name: binary.path, SecretBinary: Buffer.from("opaque-bytes") }),
    );
    const bin = await expectCode(f.store.readCurrent(binary), "MATERIAL_INVALID");
    assert.match(bin.message, /binary secret/);
    const text = aRef();
    await f.writeCurrent(text.path, "user=admin password=hunter2");
    const notJson = await expectCode(f.store.readCurrent(text), "MATERIAL_INVALID", ["hunter2"]);
    assert.match(notJson.message, /not valid JSON/);
  });

  it("refuses with ACCESS_DENIED for an unknown key, a wrong secret key and a denied operation, with AWS's words", async () => {
    const { ref } = await seeded();
    const wrongSecret = { ...f.keys, secretAccessKey: randomKeys().secretAccessKey };
    const cases = [
      {
        store: await f.storeWith({ credentials: randomKeys() }),
        text: /UnrecognizedClientException: The security token included in the request is invalid\./,
      },
      {
        store: await f.storeWith({ credentials: wrongSecret }),
        text: /InvalidSignatureException: The request signature we calculated does not match/,
      },
      {
        store: await f.denyAll(),
        text: /AccessDeniedException: User: arn:aws:iam::\d{12}:user\/test is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:/,
      },
    ];
    for (const { store, text } of cases) {
      const error = await expectCode(store.readCurrent(ref), "ACCESS_DENIED", [
        f.keys.secretAccessKey,
        wrongSecret.secretAccessKey,
      ]);
      assert.match(error.message, text);
      assert.equal(error.retryable, false);
      await store.close();
    }
  });

  it("fails fast with a retryable STORE_UNAVAILABLE when nothing listens at the endpoint", async () => {
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const { port } = probe.address() as { port: number };
    probe.close();
    await once(probe, "close");
    const store = await f.storeWith({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    const error = await expectCode(store.readCurrent(aRef()), "STORE_UNAVAILABLE");
    assert.equal(error.retryable, true);
    assert.equal(error.details.awsCode, "ECONNREFUSED");
    await store.close();
  });

  it("gives up on an endpoint that accepts connections but never answers, after requestTimeout", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)).listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as { port: number };
    const store = await f.storeWith({
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
      requestTimeout: 200,
    });
    try {
      const error = await expectCode(store.readCurrent(aRef()), "STORE_UNAVAILABLE");
      assert.equal(error.retryable, true);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("surfaces 5xx and throttling as retryable STORE_UNAVAILABLE once the SDK's attempts are spent", async () => {
    const { ref } = await seeded();
    for (const faults of [{ errorRate: 1 }, { throttleRate: 1 }]) {
      f.emulator.setFaults(faults);
      try {
        const error = await expectCode(f.store.readCurrent(ref), "STORE_UNAVAILABLE");
        assert.equal(error.retryable, true);
      } finally {
        f.emulator.setFaults({});
      }
    }
  });

  it("uses the SDK's default credential chain when the config names no keys", async () => {
    const { ref, m1 } = await seeded();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = f.keys.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = f.keys.secretAccessKey;
    try {
      const store = await createAwsStore(
        "env-keys",
        awsStoreConfig({ region: f.emulator.region, endpoint: f.emulator.url }),
      );
      assert.deepEqual((await store.readCurrent(ref)).material, m1);
      await store.close();
    } finally {
      for (const [key, value] of [
        ["AWS_ACCESS_KEY_ID", saved.id],
        ["AWS_SECRET_ACCESS_KEY", saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("lists by the exact tag pair though the service filters by prefixes, one path per page, and refuses a foreign cursor", async () => {
    const prefix = `aws-${run}/tags/`;
    const m = await aMaterial();
    const tagged = { a: { team: "pay" }, b: { team: "payments" }, c: { teams: "pay" }, d: { team: "pay" } };
    for (const [suffix, tags] of Object.entries(tagged)) {
      await f.seed({ credentialId: suffix, path: `${prefix}${suffix}` }, m, tags);
    }
    const paths: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await f.store.list({
        prefix,
        tag: { key: "team", value: "pay" },
        pageSize: 1,
        ...(cursor ? { cursor } : {}),
      });
      assert.ok(page.paths.length <= 1);
      paths.push(...page.paths);
      cursor = page.next;
    } while (cursor);
    assert.deepEqual(paths.sort(), [`${prefix}a`, `${prefix}d`]);
    await expectCode(f.store.list({ cursor: "bm90LWEtY3Vyc29y" }), "BAD_ARGUMENT");
  });

  it("logs one line per AWS call with operation, outcome and attempts, and never a value", async () => {
    lines.length = 0;
    const { ref, m1, v1 } = await seeded();
    const rotationId = randomUUID();
    const m2 = await aMaterial(rotationId);
    await f.store.writePending(ref, rotationId, m2);
    await f.store.promote(ref, rotationId, v1);
    const operations = new Set(lines.map((line) => (line as { operation: string }).operation));
    for (const op of ["GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage"])
      assert.ok(operations.has(op), op);
    for (const line of lines) {
      assert.equal((line as { store: string }).store, "aws-test");
      assert.ok("outcome" in line && "ms" in line && (line as { path?: string }).path === ref.path);
    }
    const text = JSON.stringify(lines);
    for (const secret of [m1.keyPem, m2.keyPem, m1.clientSecret!, m2.clientSecret!, f.keys.secretAccessKey]) {
      assert.ok(!text.includes(secret));
    }
  });
});
