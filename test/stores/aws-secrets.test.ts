/**
 * Invariant 7 for the AWS store: provoke every error the adapter raises, with real secret material in play
 * (a private key PEM, a PKCS#12 and its passphrase, a client_secret, the AWS secret access key and session
 * token), and scan every error's message, hint, details and cause chain, every adapter log line and every
 * emulator log line for those values. Zero hits.
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { buildPfx, randomPassphrase } from "../../src/crypto/index.js";
import { type ErrorCode, isCertrotorError } from "../../src/errors.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { CredentialRef, Material, SecretStore } from "../../src/stores/types.js";
import { secretsOf } from "../contract/helpers.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { type AwsFixture, randomKeys, startAwsFixture } from "./aws-fixture.js";

/** Every string an error or a log could leak, including the cause chain the logger would print. */
function textOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (isCertrotorError(current)) {
      parts.push(
        current.message,
        current.hint ?? "",
        JSON.stringify(current.details),
        current.toSafeString(),
      );
    }
    parts.push(String(current), current instanceof Error ? (current.stack ?? "") : "");
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join("\n");
}

describe("AWS store errors and logs carry no secret material", () => {
  let f: AwsFixture;
  let ca: PkiMaterial;
  const lines: object[] = [];
  const logger = (line: object): void => {
    lines.push(line);
  };
  const provoked = new Map<ErrorCode, unknown[]>();
  const secrets: string[] = [];
  const session = { ...randomKeys(), sessionToken: randomBytes(32).toString("base64") };
  const wrongSecret = randomKeys().secretAccessKey;
  let n = 0;

  before(async () => {
    ca = await aCa();
    f = await startAwsFixture({ logger, name: "scan" });
    secrets.push(f.keys.secretAccessKey, wrongSecret, session.secretAccessKey, session.sessionToken);
  });
  after(async () => {
    await f.store.close();
    await f.cleanup();
  });

  const aRef = (): CredentialRef => ({ credentialId: `scan-${++n}`, path: `scan/${randomUUID()}` });
  const aMaterial = async (rotationId?: string): Promise<Material> => {
    const cert = await aClientCert({ ca });
    const pfxPassphrase = randomPassphrase();
    const pfxBase64 = buildPfx({
      keyPem: cert.keyPem,
      certPem: cert.certPem,
      chainPem: ca.certPem,
      passphrase: pfxPassphrase,
    }).toString("base64");
    const material: Material = {
      clientId: "client-app-01",
      clientSecret: `cs-${randomBytes(18).toString("base64url")}`,
      certPem: cert.certPem,
      chainPem: ca.certPem,
      keyPem: cert.keyPem,
      pfxBase64,
      pfxPassphrase,
      fingerprint: cert.fingerprint,
      notAfter: cert.notAfter.toISOString(),
      ...(rotationId ? { rotationId } : {}),
    };
    secrets.push(...secretsOf(material), pfxPassphrase, material.clientSecret!);
    return material;
  };
  const provoke = async (code: ErrorCode, call: Promise<unknown>): Promise<void> => {
    let caught: unknown;
    await assert.rejects(call, (error: unknown) => {
      caught = error;
      return true;
    });
    assert.ok(isCertrotorError(caught, code), `expected ${code}, got ${textOf(caught).split("\n")[0]}`);
    provoked.set(code, [...(provoked.get(code) ?? []), caught]);
  };
  const other = (overrides: Record<string, unknown>): Promise<SecretStore> => f.storeWith(overrides, logger);

  it("provokes NOT_FOUND, MATERIAL_INVALID, CAS_CONFLICT, PENDING_CONFLICT and BAD_ARGUMENT with material in play", async () => {
    const ref = aRef();
    await provoke("NOT_FOUND", f.store.readCurrent(ref));
    const m1 = await aMaterial();
    await f.seed(ref, m1);
    const { version } = await f.store.readCurrent(ref);
    await provoke("NOT_FOUND", f.store.promote(ref, randomUUID(), version)); // nothing pending

    const { keyPem: _key, ...noKey } = m1;
    const missing = aRef();
    await f.corrupt(missing, noKey);
    await provoke("MATERIAL_INVALID", f.store.readCurrent(missing));
    const wrongType = aRef();
    await f.corrupt(wrongType, { ...m1, keyPem: 42 });
    await provoke("MATERIAL_INVALID", f.store.readCurrent(wrongType));
    const notJson = aRef();
    await f.writeCurrent(notJson.path, `${JSON.stringify(encodeMaterial(m1)).slice(0, -1)},`);
    await provoke("MATERIAL_INVALID", f.store.readCurrent(notJson));
    const binary = aRef();
    await f.admin.send(new CreateSecretCommand({ Name: binary.path, SecretBinary: Buffer.from(m1.keyPem) }));
    await provoke("MATERIAL_INVALID", f.store.readCurrent(binary));

    const v1 = version;
    const r1 = randomUUID();
    await f.store.writePending(ref, r1, await aMaterial(r1));
    const r2 = randomUUID();
    await provoke("PENDING_CONFLICT", f.store.writePending(ref, r2, await aMaterial(r2)));
    await f.seed(ref, await aMaterial());
    await provoke("CAS_CONFLICT", f.store.promote(ref, r1, v1));

    const foreign = aRef();
    await f.seed(foreign, await aMaterial());
    const leaked = await aMaterial();
    await f.admin.send(
      new PutSecretValueCommand({
        SecretId: foreign.path,
        SecretString: JSON.stringify({ keyPem: leaked.keyPem, password: leaked.pfxPassphrase }),
        VersionStages: ["AWSPENDING"],
      }),
    );
    await provoke("PENDING_CONFLICT", f.store.readPending(foreign));

    const deleted = aRef();
    await f.seed(deleted, await aMaterial());
    await f.admin.send(new DeleteSecretCommand({ SecretId: deleted.path }));
    await provoke("NOT_FOUND", f.store.readCurrent(deleted));
    await provoke("BAD_ARGUMENT", f.store.list({ cursor: randomBytes(12).toString("base64url") }));
  });

  it("provokes ACCESS_DENIED with unknown, wrong, denied and incomplete temporary keys", async () => {
    const ref = aRef();
    await f.seed(ref, await aMaterial());
    const r = randomUUID();
    const m = await aMaterial(r);
    for (const store of [
      await other({ credentials: randomKeys() }),
      await other({ credentials: { ...f.keys, secretAccessKey: wrongSecret } }),
      await other({ credentials: session }),
    ]) {
      await provoke("ACCESS_DENIED", store.readCurrent(ref));
      await provoke("ACCESS_DENIED", store.writePending(ref, r, m));
      await store.close();
    }
    const denied = await f.denyAll();
    await provoke("ACCESS_DENIED", denied.writePending(ref, r, m));
    await denied.close();
  });

  it("provokes STORE_UNAVAILABLE from 5xx, throttling and an unreachable endpoint while staging material", async () => {
    const ref = aRef();
    await f.seed(ref, await aMaterial());
    const r = randomUUID();
    const m = await aMaterial(r);
    const impatient = await other({ maxAttempts: 1 });
    for (const faults of [{ errorRate: 1 }, { throttleRate: 1 }, { dropRate: 1 }]) {
      f.emulator.setFaults({ ...faults, operations: ["PutSecretValue"] });
      await provoke("STORE_UNAVAILABLE", impatient.writePending(ref, r, m));
    }
    f.emulator.setFaults({});
    await impatient.close();
    const nowhere = await other({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 });
    await provoke("STORE_UNAVAILABLE", nowhere.writePending(ref, r, m));
    await nowhere.close();
  });

  it("finds none of the secret values in any error, adapter log line or emulator log line", () => {
    for (const code of [
      "NOT_FOUND",
      "MATERIAL_INVALID",
      "CAS_CONFLICT",
      "PENDING_CONFLICT",
      "ACCESS_DENIED",
      "STORE_UNAVAILABLE",
      "BAD_ARGUMENT",
    ] as const) {
      assert.ok((provoked.get(code)?.length ?? 0) > 0, `${code} was provoked`);
    }
    assert.ok(secrets.length > 20 && lines.length > 20);
    const haystacks = [
      ...[...provoked.values()].flat().map(textOf),
      ...lines.map((line) => JSON.stringify(line)),
      f.emulator.logs.join("\n"),
    ];
    let hits = 0;
    for (const haystack of haystacks) for (const secret of secrets) if (haystack.includes(secret)) hits++;
    assert.equal(hits, 0);
  });
});
