import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { inspectCertificate } from "../../src/crypto/index.js";
import { STEPS } from "../../src/journal/types.js";
import { createLogger } from "../../src/observability/logger.js";
import { startWorker } from "../../jobs/worker.js";
import { scan } from "../../src/rotation/scan.js";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import { dumpRedis, queueConfig } from "../queue/helpers.js";
import { type Family, parsePrometheusText, sampleValue } from "./prom-text.js";
import { aWorkerRun, fileStoreKey, type Run } from "./run.js";

const seconds = (iso: string | Date): number => new Date(iso).getTime() / 1000;

async function scrape(
  run: Run,
): Promise<{ contentType: string; text: string; families: Map<string, Family> }> {
  const response = await fetch(run.metricsUrl);
  assert.equal(response.status, 200);
  const text = await response.text();
  return {
    contentType: response.headers.get("content-type") ?? "",
    text,
    families: parsePrometheusText(text),
  };
}

/** Pieces of a secret that would show up however it was serialized: each base64 line of a PEM body. */
function fragments(secret: string): string[] {
  if (secret.includes("-----BEGIN")) {
    return secret.split("\n").filter((line) => line.length >= 40 && !line.startsWith("-----"));
  }
  if (secret.length > 128) return secret.match(/.{64}/g) ?? [];
  return [secret];
}

describe("the worker's observability after a run with failing and succeeding rotations", () => {
  let run: Run;
  let metrics: Awaited<ReturnType<typeof scrape>>;
  before(async () => {
    run = await aWorkerRun();
    metrics = await scrape(run);
  });
  after(() => run?.stop());

  it("serves /metrics as Prometheus text format: one HELP and TYPE per family, valid labels, full histograms", () => {
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4; charset=utf-8$/);
    const expected = {
      certrotor_certificate_not_after_timestamp_seconds: "gauge",
      certrotor_certificate_renewal_timestamp_seconds: "gauge",
      certrotor_bound_certificates: "gauge",
      certrotor_last_successful_rotation_timestamp_seconds: "gauge",
      certrotor_rotations_total: "counter",
      certrotor_rotation_step_duration_seconds: "histogram",
      certrotor_alert_deliveries_total: "counter",
      certrotor_queue_jobs: "gauge",
      process_cpu_seconds_total: "counter",
      process_resident_memory_bytes: "gauge",
      nodejs_eventloop_lag_seconds: "gauge",
    };
    for (const [name, type] of Object.entries(expected)) {
      const family = metrics.families.get(name);
      assert.equal(family?.type, type, `${name} is a ${type}`);
      assert.ok(family.help && family.help.length > 10, `${name} has a HELP text`);
    }
    const steps = metrics.families.get("certrotor_rotation_step_duration_seconds")!;
    for (const suffix of ["_bucket", "_sum", "_count"])
      assert.ok(
        steps.samples.some((s) => s.name.endsWith(suffix)),
        `histogram has ${suffix}`,
      );
  });

  it("counts every rotate job by outcome, with the error code of the failures", () => {
    const count = (credential: string, outcome: string, error_code = "") =>
      sampleValue(metrics.families, "certrotor_rotations_total", { credential, outcome, error_code });
    for (const id of ["cred-1", "cred-2", "cred-3"]) assert.equal(count(id, "succeeded"), 1, id);
    assert.equal(count("cred-0", "rolled-back", "IP_NOT_ALLOWED"), 2);
    assert.equal(count("cred-4", "failed", "SLOTS_FULL"), 2);
    const total = metrics.families.get("certrotor_rotations_total")!.samples;
    assert.equal(total.length, 5, "no other outcome was counted");
  });

  it("observes each step of each attempt in the step duration histogram", () => {
    const counts = Object.fromEntries(
      STEPS.map((step) => [
        step,
        sampleValue(metrics.families, "certrotor_rotation_step_duration_seconds_count", { step }),
      ]),
    );
    // 7 attempts plan; cred-4's stop in plan; cred-0's two attempts go up to verify; 3 go to the end
    assert.deepEqual(counts, {
      plan: 7,
      generate: 5,
      issue: 5,
      stage: 5,
      register: 5,
      verify: 5,
      promote: 3,
      retire: 3,
      done: 3,
    });
    const sum = sampleValue(metrics.families, "certrotor_rotation_step_duration_seconds_sum", {
      step: "generate",
    });
    assert.ok(sum !== undefined && sum > 0);
  });

  it("publishes each credential's not-after, renewal time and bound slots from the last scan", async () => {
    const { worker } = run;
    const report = await scan({ ...worker.runtime, now: () => run.finishedAt });
    for (const entry of report.entries) {
      const credential = entry.credentialId;
      const credentialObj = await worker.runtime.credential(credential);
      const current = await worker.runtime.stores.get("main")!.readCurrent(credentialObj.ref);
      const notAfter = inspectCertificate(current.material.certPem).notAfter;
      const gauge = (name: string) => sampleValue(metrics.families, name, { credential });
      assert.equal(gauge("certrotor_certificate_not_after_timestamp_seconds"), seconds(notAfter), credential);
      assert.equal(
        gauge("certrotor_certificate_renewal_timestamp_seconds"),
        seconds(entry.dueAt!),
        credential,
      );
      assert.equal(gauge("certrotor_bound_certificates"), credential === "cred-4" ? 2 : 1, credential);
    }
  });

  it("sets the last successful rotation time of the rotated credentials only", () => {
    for (const credential of ["cred-1", "cred-2", "cred-3"]) {
      const at = sampleValue(metrics.families, "certrotor_last_successful_rotation_timestamp_seconds", {
        credential,
      });
      assert.ok(
        at !== undefined && at >= seconds(run.startedAt) && at <= seconds(run.finishedAt),
        credential,
      );
    }
    for (const credential of ["cred-0", "cred-4"]) {
      const at = sampleValue(metrics.families, "certrotor_last_successful_rotation_timestamp_seconds", {
        credential,
      });
      assert.equal(at, undefined, credential);
    }
  });

  it("reads the queue depths on scrape: both scans completed, no rotate job left, the alerts delivered", async () => {
    const jobs = (queue: string, state: string) =>
      sampleValue(metrics.families, "certrotor_queue_jobs", { queue, state });
    assert.equal(jobs("scan", "completed"), 2);
    for (const state of ["waiting", "active", "delayed", "completed", "failed"])
      assert.equal(jobs("rotate", state), 0);
    const notify = await run.worker.producer.queues.notify.getJobCounts();
    for (const [state, count] of Object.entries(notify)) assert.equal(jobs("notify", state), count, state);
    assert.ok(notify.completed! >= 4, "at least one alert per failed rotation");
  });

  it("counts alert deliveries by channel and outcome", () => {
    const deliveries = metrics.families.get("certrotor_alert_deliveries_total")!.samples;
    const delivered = sampleValue(metrics.families, "certrotor_queue_jobs", {
      queue: "notify",
      state: "completed",
    });
    assert.deepEqual(
      deliveries.map((s) => [s.labels, s.value]),
      [[{ channel: "log", outcome: "delivered" }, delivered]],
    );
  });

  it("records the scheduled rotations' actions in the audit trail in Redis, with actor schedule", async () => {
    const actions = async (id: string) => {
      const events = (await run.worker.runtime.journal.auditTrail(id)).reverse();
      assert.ok(
        events.every((e) => e.actor === "schedule"),
        id,
      );
      return events.map((e) => (e.action === "failed" ? `failed:${e.details?.errorCode}` : e.action));
    };
    const rotated = ["issued", "staged", "bound", "verified", "promoted", "retire-scheduled", "unbound"];
    const rolledBack = ["issued", "staged", "bound", "failed:IP_NOT_ALLOWED", "rolled-back"];
    for (const id of ["cred-1", "cred-2", "cred-3"]) assert.deepEqual(await actions(id), rotated, id);
    assert.deepEqual(await actions("cred-0"), [...rolledBack, ...rolledBack]);
    assert.deepEqual(await actions("cred-4"), ["failed:SLOTS_FULL", "failed:SLOTS_FULL"]);
  });

  it("logs JSON lines whose rotation lines carry the credential, job, rotation and step", () => {
    const lines = run.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const started = lines.filter((l) => l.msg === "step started" && l.credentialId === "cred-1");
    assert.ok(started.length >= 8);
    for (const line of started) {
      assert.match(String(line.rotationId), /^rot_[0-9a-f]{32}$/);
      assert.equal(line.jobId, "rotate-cred-1");
      assert.ok(STEPS.includes(line.step as (typeof STEPS)[number]));
    }
    const failed = lines.find((l) => l.msg === "attempt failed" && l.credentialId === "cred-0");
    assert.equal((failed?.err as { code?: string } | undefined)?.code, "IP_NOT_ALLOWED");
  });

  it("leaves no secret used in the run in the logs, in any Redis key or value, or in the metrics", async () => {
    const { world, worker } = run;
    const store = worker.runtime.stores.get("main")!;
    const bank = worker.runtime.banks.get("sandbox")!;
    const secrets: Array<[string, string]> = [
      ["bank admin API key", world.sandbox.adminApiKey],
      ["file store key", await fileStoreKey(world)],
      [
        "CA private key",
        (await store.readCurrent({ credentialId: "ca", path: "ca/issuing" })).material.keyPem,
      ],
    ];
    for (const c of world.credentials) {
      const ref = (await worker.runtime.credential(c.id)).ref;
      const current = (await store.readCurrent(ref)).material;
      const previous = (await store.readPrevious(ref))?.material;
      secrets.push([`client secret of ${c.id}`, c.clientSecret], [`key of ${c.id}`, current.keyPem]);
      if (previous) secrets.push([`previous key of ${c.id}`, previous.keyPem]);
      if (current.pfxBase64) {
        secrets.push(
          [`PFX of ${c.id}`, current.pfxBase64],
          [`PFX passphrase of ${c.id}`, current.pfxPassphrase!],
        );
        const token = await bank.requestToken(current, {
          clientId: c.clientId,
          clientSecret: c.clientSecret,
        });
        secrets.push([`access token of ${c.id}`, token.accessToken]);
      }
    }
    assert.equal(secrets.filter(([what]) => what.startsWith("PFX of")).length, 3);
    const places: Array<[string, string]> = [
      ["the logs", run.logs.join("\n")],
      ["Redis", await dumpRedis(run.redis.url)],
      ["the metrics", (await scrape(run)).text],
    ];
    // the places hold the run: what is not secret (fingerprints, rotation ids) is found there
    const cred1 = (await store.readCurrent((await worker.runtime.credential("cred-1")).ref)).material;
    assert.ok(places[1]![1].includes(cred1.fingerprint), "Redis holds the journal");
    assert.ok(places[0]![1].includes(cred1.rotationId!), "the logs hold the rotations");
    for (const [what, secret] of secrets) {
      const pieces = fragments(secret);
      assert.ok(
        pieces.length > 0 && pieces.every((p) => p.length >= 8),
        `${what} gives fragments to look for`,
      );
      for (const [where, text] of places) {
        assert.ok(!pieces.some((piece) => text.includes(piece)), `${what} found in ${where}`);
      }
    }
  });
});

describe("the worker's HTTP surface while Redis accepts connections but does not answer", () => {
  it("still serves /metrics (without queue depths) and /healthz, and /readyz says not ready", async () => {
    const redis = await startRedis();
    const world = await aWorld({ store: "file", issuer: "local-ca" });
    const logger = createLogger({ level: "silent" });
    const worker = await startWorker(queueConfig(world.config, redis.url), {
      logger,
      port: 0,
      host: "127.0.0.1",
      schedules: false,
    });
    const admin = new Redis(redis.url);
    const base = `http://127.0.0.1:${worker.port}`;
    try {
      const before = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
      assert.ok(before.get("certrotor_queue_jobs")!.samples.length > 0);
      // every client's commands wait until the pause ends: far longer than the scrape's bound
      await admin.call("CLIENT", "PAUSE", "6000", "ALL");
      const response = await fetch(`${base}/metrics`);
      assert.equal(response.status, 200);
      const during = parsePrometheusText(await response.text());
      assert.equal(during.get("certrotor_queue_jobs")?.samples.length, 0, "no stale queue depths");
      assert.equal(during.get("certrotor_rotations_total")?.type, "counter");
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /no answer within/);
    } finally {
      await worker.stop();
      admin.disconnect();
      await world.stop();
      await redis.stop();
    }
  });
});
