import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Job } from "bullmq";
import { verifyWebhookSignature } from "../../src/alerts/webhook.js";
import { type Config, configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { rotateJobId } from "../../src/queue/names.js";
import { startWorker, type WorkerHandle } from "../../jobs/worker.js";
import { aCa, aClientCert, days } from "../fixtures/pki.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import { QueueWatch } from "./queue-watch.js";
import { HttpReceiver, type Received, SmtpReceiver } from "./receivers.js";

const silent = createLogger({ level: "silent" });
const WEBHOOK_SECRET = "whsec-e2e-0123456789abcdef";
const ROUTING_KEY = "pd-routing-key-e2e-0123456789";
const SMTP = { user: "certrotor", password: "smtp-e2e-password-secret" };
const LOOPBACK = ["127.0.0.1", "::1"];

interface Rig {
  world: TestWorld;
  worker: WorkerHandle;
  hook: HttpReceiver;
  slack: HttpReceiver;
  pd: HttpReceiver;
  smtp: SmtpReceiver;
  rotations: QueueWatch;
  notifications: QueueWatch;
  scans: QueueWatch;
  secrets: Set<string>;
}

/** A worker on a private redis-server with all four channel kinds pointed at receivers run by the test. */
async function withRig(options: { expiresInMs: number }, run: (rig: Rig) => Promise<void>): Promise<void> {
  const redis = await startRedis();
  const world = await aWorld({ store: "file", issuer: "local-ca", expiresInMs: () => options.expiresInMs });
  const [hook, slack, pd, smtp] = await Promise.all([
    HttpReceiver.start(),
    HttpReceiver.start(),
    HttpReceiver.start(),
    SmtpReceiver.start(SMTP),
  ]);
  slack.status = 500; // a channel that keeps failing
  pd.status = 202;
  const caFile = join(world.dir, "smtp-ca.pem");
  await writeFile(caFile, smtp.caPem);
  const config: Config = configSchema.parse({
    ...world.config,
    redis: { url: redis.url, prefix: "{alerts-e2e}", connectTimeout: 5_000 },
    worker: { ...world.config.worker, port: 0 },
    alerts: {
      channels: {
        hook: { kind: "webhook", url: hook.url("/certrotor"), secret: WEBHOOK_SECRET },
        slack: { kind: "slack", url: slack.url("/services/T0/B0/slack-url-secret") },
        pd: { kind: "pagerduty", routingKey: ROUTING_KEY, url: pd.url("/v2/enqueue") },
        mail: {
          kind: "email",
          host: "127.0.0.1",
          port: smtp.port,
          requireTLS: true,
          caFile,
          user: SMTP.user,
          password: SMTP.password,
          from: "certrotor@example.test",
          to: ["ops@example.test"],
        },
      },
      notifyOnSuccess: true,
      deliveryAttempts: 3,
      deliveryBackoff: 10,
    },
  });
  const prefix = config.redis!.prefix;
  const [rotations, notifications, scans] = await Promise.all([
    QueueWatch.start(redis.url, "rotate", prefix),
    QueueWatch.start(redis.url, "notify", prefix),
    QueueWatch.start(redis.url, "scan", prefix),
  ]);
  const worker = await startWorker(config, { logger: silent, port: 0, host: "127.0.0.1", schedules: false });
  const secrets = new Set<string>([
    ...world.credentials.map((c) => c.clientSecret),
    world.sandbox.adminApiKey,
    WEBHOOK_SECRET,
    SMTP.password,
  ]);
  try {
    await run({ world, worker, hook, slack, pd, smtp, rotations, notifications, scans, secrets });
  } finally {
    await worker.stop();
    await Promise.all([rotations.close(), notifications.close(), scans.close()]);
    await Promise.all([hook.stop(), slack.stop(), pd.stop(), smtp.stop()]);
    await world.stop();
    await redis.stop();
  }
}

/** Adds the credential's secret material as it is now in the store (key, PFX, passphrase) to `secrets`. */
async function collectSecrets(rig: Rig, credentialId: string): Promise<void> {
  const credential = await rig.worker.runtime.credential(credentialId);
  const current = await rig.worker.runtime.depsFor(credential).store.readCurrent(credential.ref);
  const { keyPem, pfxBase64, pfxPassphrase, clientSecret } = current.material;
  for (const value of [keyPem, pfxBase64, pfxPassphrase, clientSecret]) if (value) rig.secrets.add(value);
}

async function rotate(rig: Rig, credentialId: string) {
  const outcome = rig.rotations.next(rotateJobId(credentialId));
  await rig.worker.producer.enqueueRotate({ credentialId, trigger: "on-demand", attempts: 2 });
  return outcome;
}

async function runScan(rig: Rig) {
  const job = await rig.worker.producer.queues.scan.add("scan", {});
  const outcome = rig.scans.next(job.id!);
  return outcome;
}

const triggers = (r: Received) => r.json.event_action === "trigger";
const resolves = (r: Received) => r.json.event_action === "resolve";

/** No secret, nor its first or last 24 base64 characters, shows anywhere in what the receivers got. */
function assertNoSecrets(rig: Rig): void {
  const payloads = [
    ...rig.hook.requests.map((r) => r.raw),
    ...rig.slack.requests.map((r) => r.raw),
    // routing_key is PagerDuty's own address of the channel: it must be in its body and nowhere else
    ...rig.pd.requests.map((r) => JSON.stringify({ ...r.json, routing_key: undefined })),
    ...rig.smtp.mails.map((m) => m.raw),
  ];
  assert.ok(payloads.length > 0);
  const all = payloads.join("\n");
  let checked = 0;
  for (const secret of [...rig.secrets, ROUTING_KEY]) {
    const body = secret.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    for (const piece of [secret, body.slice(0, 24), body.slice(-24)]) {
      if (piece.length < 8) continue;
      checked++;
      assert.ok(!all.includes(piece), `an alert payload leaks a secret (${piece.slice(0, 6)}...)`);
    }
  }
  assert.ok(checked >= 10, `scanned for ${checked} secret pieces`);
}

describe("alerts from the queue worker", () => {
  it("alerts a failing rotation once, resolves it with the same dedup key on the next success, and a failing channel never blocks rotation", async () => {
    await withRig({ expiresInMs: days(80) }, async (rig) => {
      const { clientId } = rig.world.credentials[0]!;
      await collectSecrets(rig, "cred-0");
      rig.world.sandbox.setAllowedIps(clientId, ["203.0.113.9"]);
      const first = await rotate(rig, "cred-0");
      assert.equal(first.status, "failed");
      assert.match((first as { reason: string }).reason, /IP_NOT_ALLOWED/);
      await rig.pd.untilCount(1, triggers);
      const second = await rotate(rig, "cred-0");
      assert.equal(second.status, "failed");

      rig.world.sandbox.setAllowedIps(clientId, LOOPBACK);
      const third = await rotate(rig, "cred-0");
      assert.equal(third.status, "completed", "the rotation completes although Slack keeps answering 500");
      await collectSecrets(rig, "cred-0");
      await rig.pd.untilCount(1, resolves);
      await rig.notifications.idle(rig.worker.producer.queues.notify);

      const [trigger, resolve] = rig.pd.requests;
      assert.equal(rig.pd.requests.length, 2, "one trigger for two failed rotations, one resolve");
      assert.equal(trigger!.json.event_action, "trigger");
      assert.equal(resolve!.json.event_action, "resolve");
      const kind = (trigger!.json.payload as { class: string }).class;
      assert.ok(["verify-failed-rolled-back", "rotation-failed"].includes(kind), kind);
      assert.equal(trigger!.json.dedup_key, `certrotor/cred-0/${kind}`);
      assert.equal(resolve!.json.dedup_key, trigger!.json.dedup_key);
      const details = (trigger!.json.payload as { custom_details: Record<string, string> }).custom_details;
      assert.equal(details.errorCode, "IP_NOT_ALLOWED");
      assert.match(
        details.errorSummary!,
        /403 Forbidden: the egress IP is not in the credential's allowlist/,
      );
      assert.match(details.hint!, /allowlist/);
      assert.equal(details.clientId, clientId);
      assert.match(details.fingerprint!, /^[0-9a-f]{64}$/);
      assert.ok(details.subject && details.notAfter && details.rotationId);

      // webhook and email: trigger, resolve and the success notice, each once; every signature verifies
      assert.deepEqual(
        rig.hook.requests.map((r) => r.json.kind),
        [kind, "resolved", "rotation-succeeded"],
      );
      for (const r of rig.hook.requests) {
        const ok = verifyWebhookSignature(
          WEBHOOK_SECRET,
          String(r.headers["x-certrotor-timestamp"]),
          r.raw,
          String(r.headers["x-certrotor-signature"]),
          300_000,
        );
        assert.ok(ok, "the webhook signature verifies");
      }
      assert.equal(rig.smtp.mails.length, 3);

      // Slack answered 500 to every attempt of every alert: retried, then given up on
      assert.equal(rig.slack.requests.length, 3 * 3);
      const failed: Job[] = await rig.worker.producer.queues.notify.getFailed();
      assert.equal(failed.length, 3);
      for (const job of failed) {
        assert.equal(job.attemptsMade, 3);
        assert.deepEqual((job.progress as { abandoned: string[] }).abandoned, ["slack"]);
        assert.deepEqual([...(job.progress as { delivered: string[] }).delivered].sort(), [
          "hook",
          "mail",
          "pd",
        ]);
      }
      assertNoSecrets(rig);
    });
  });

  it("alerts what the scan finds once per episode — critical window, overdue, drift, slots full — and resolves each when it ends", async () => {
    await withRig({ expiresInMs: days(3) }, async (rig) => {
      const { clientId } = rig.world.credentials[0]!;
      await collectSecrets(rig, "cred-0");
      const foreignCa = await aCa();
      const foreign = await aClientCert({ ca: foreignCa });
      rig.world.sandbox.bindCertificate(clientId, foreign.certPem);

      // the scan enqueues the due rotation, which finds both slots taken by a cert it does not own
      const rotated = rig.rotations.next(rotateJobId("cred-0"));
      assert.equal((await runScan(rig)).status, "completed");
      assert.equal((await rotated).status, "failed");
      const again = rig.rotations.next(rotateJobId("cred-0"));
      assert.equal((await runScan(rig)).status, "completed");
      assert.equal((await again).status, "failed", "still full: the same episode, no new alert");
      await rig.pd.untilCount(4, triggers);
      const opened = rig.pd.requests.filter(triggers).map((r) => r.json.dedup_key);
      assert.deepEqual([...opened].sort(), [
        "certrotor/cred-0/critical-window",
        "certrotor/cred-0/drift",
        "certrotor/cred-0/rotation-overdue", // renewal was due at 2/3 of the 90-day life, weeks ago
        "certrotor/cred-0/slots-full",
      ]);

      // the operator unbinds the foreign cert: the next scan resolves the drift only
      await requireSlots(rig.worker.runtime.banks.get("sandbox")!).unbind(clientId, foreign.fingerprint);
      const retried = rig.rotations.next(rotateJobId("cred-0"));
      assert.equal((await runScan(rig)).status, "completed");
      await rig.pd.untilCount(1, resolves);
      assert.equal(rig.pd.requests.filter(resolves)[0]!.json.dedup_key, "certrotor/cred-0/drift");

      // the rotation the scan queued succeeds: the other episodes end
      assert.equal((await retried).status, "completed");
      await collectSecrets(rig, "cred-0");
      await rig.pd.untilCount(4, resolves);
      assert.equal((await runScan(rig)).status, "completed");
      await rig.notifications.idle(rig.worker.producer.queues.notify);
      const closed = rig.pd.requests.filter(resolves).map((r) => r.json.dedup_key);
      assert.deepEqual([...closed].sort(), [...opened].sort());
      assert.equal(rig.pd.requests.filter(triggers).length, 4, "four scans, still one alert per episode");
      assertNoSecrets(rig);
    });
  });
});
