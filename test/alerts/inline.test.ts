/**
 * Alerts of `certrotor rotate --inline`, the way it runs from cron without Redis or a worker: each run is
 * a new process, the failure episode lives in the state dir, so a rotation failing on every run alerts
 * once, and the run that succeeds resolves it with the same dedup key. A refusal in plan (before anything
 * changed) alerts too. Delivered from the command itself to a real HTTP receiver; nothing secret in it.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { verifyWebhookSignature } from "../../src/alerts/webhook.js";
import { generateKeyPair } from "../../src/crypto/index.js";
import type { Config } from "../../src/config/schema.js";
import { certrotor } from "../fixtures/cli.js";
import { aWorld, type TestWorld, withWorldFileStore } from "../fixtures/world.js";
import { HttpReceiver } from "./receivers.js";

const SECRET = "inline-alerts-webhook-secret-01";

describe("rotate --inline alerts", () => {
  let world: TestWorld;
  let receiver: HttpReceiver;
  let configPath: string;
  let foreignKeyPem: string;

  before(async () => {
    receiver = await HttpReceiver.start();
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 2, renewal: { attempts: 1 } });
    const config: Config = {
      ...world.config,
      alerts: {
        ...world.config.alerts,
        channels: { ops: { kind: "webhook", url: receiver.url("/ops"), secret: SECRET } },
        deliveryBackoff: 50,
      },
    };
    configPath = join(world.dir, "certrotor.json");
    await writeFile(configPath, JSON.stringify(config));
    // cred-1 holds a key that is not its certificate's: plan refuses it with KEY_MISMATCH
    await withWorldFileStore(world, async (store) => {
      const ref = { credentialId: "cred-1", path: "certrotor/cred-1" };
      const material = (await store.readCurrent(ref)).material;
      foreignKeyPem = (await generateKeyPair("p256")).keyPem;
      await store.putCurrent(ref, { ...material, keyPem: foreignKeyPem });
    });
  });
  after(async () => {
    await world.stop();
    await receiver.stop();
  });

  const rotate = (id: string) => certrotor("rotate", id, "--inline", "--config", configPath);
  const alertsFor = (id: string) => receiver.requests.filter((r) => r.json.credentialId === id);

  it("alerts once when verify fails and the rotation is rolled back", async () => {
    world.sandbox.setFaults({ token: { failRate: 1, failStatus: 503 } });
    try {
      const run = await rotate("cred-0");
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stdout, /failed after 1 attempt\(s\): BANK_UNAVAILABLE/);
      assert.match(run.stdout, /alert verify-failed-rolled-back: delivered to ops/);
      const [alert, ...more] = alertsFor("cred-0");
      assert.equal(more.length, 0);
      assert.equal(alert!.json.kind, "verify-failed-rolled-back");
      assert.equal(alert!.json.dedupKey, "certrotor/cred-0/verify-failed-rolled-back");
      assert.equal(alert!.json.errorCode, "BANK_UNAVAILABLE");
      const { headers } = alert!;
      assert.ok(
        verifyWebhookSignature(
          SECRET,
          String(headers["x-certrotor-timestamp"]),
          alert!.raw,
          String(headers["x-certrotor-signature"]),
          60_000,
        ),
        "signed with the channel's secret",
      );

      const again = await rotate("cred-0");
      assert.equal(again.code, 2);
      assert.doesNotMatch(
        again.stdout,
        /alert /,
        "the episode is open: the second failing run alerts nothing",
      );
      assert.equal(alertsFor("cred-0").length, 1);
    } finally {
      world.sandbox.setFaults({});
    }
  });

  it("resolves the open episode with the same dedup key when a later run succeeds", async () => {
    const run = await rotate("cred-0");
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /succeeded: rotation/);
    assert.match(run.stdout, /alert resolved: delivered to ops/);
    const last = alertsFor("cred-0").at(-1)!;
    assert.equal(last.json.kind, "resolved");
    assert.equal(last.json.dedupKey, "certrotor/cred-0/verify-failed-rolled-back");
    assert.equal(alertsFor("cred-0").length, 2);
  });

  it("alerts on a refusal in plan, with the one-line error and nothing changed", async () => {
    const slotsBefore = world.sandbox.boundCertificates(world.credentials[1]!.clientId).length;
    const run = await rotate("cred-1");
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /KEY_MISMATCH/);
    assert.match(run.stdout, /alert rotation-failed: delivered to ops/);
    const [alert] = alertsFor("cred-1");
    assert.equal(alert!.json.kind, "rotation-failed");
    assert.equal(alert!.json.errorCode, "KEY_MISMATCH");
    assert.equal(world.sandbox.boundCertificates(world.credentials[1]!.clientId).length, slotsBefore);
  });

  it("puts no secret in any alert it sent", async () => {
    const storeKey = await readFile(join(world.dir, "store.key"), "utf8");
    const secrets = [
      SECRET,
      world.sandbox.adminApiKey,
      storeKey.trim(),
      foreignKeyPem.split("\n")[1]!,
      ...world.credentials.map((c) => c.clientSecret),
    ];
    assert.ok(receiver.requests.length >= 3);
    for (const request of receiver.requests)
      for (const secret of secrets) assert.ok(!request.raw.includes(secret), `a secret in ${request.raw}`);
  });
});
