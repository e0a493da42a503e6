/**
 * Discovery at fleet scale: 10,000 credentials discovered by prefix in the Vault emulator, all due. The
 * worker's scan processor (on a real BullMQ worker, real Redis) reads each one and enqueues a rotate job
 * per credential. Store requests are counted at the emulator: the scan lists once and reads each
 * credential (current and pending), and resolving the credential of every job it queued costs none; a
 * lookup by id per due credential (what the scan and the jobs did before) would list the whole store
 * 10,000 times over. Store-only (as `scan --no-bank`), so the bank's reads do not swamp the run; the
 * emulator runs in a child process (fixtures/vault-fleet.ts), its state seeded directly.
 */
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { createScanProcessor, type ScanResult } from "../../jobs/scan.js";
import { configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { QUEUES } from "../../src/queue/names.js";
import { type RotateJobData, rotateJobData } from "../../src/queue/payloads.js";
import { createProducer, type Producer } from "../../src/queue/producer.js";
import {
  discoveryRuleKey,
  listCredentials,
  type ResolvedCredential,
} from "../../src/rotation/credentials.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { QueueWatch } from "../alerts/queue-watch.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { aCa, aClientCert, days } from "../fixtures/pki.js";
import type { FleetMessage, FleetRequest } from "./fixtures/vault-fleet.js";

const COUNT = 10_000;
const PREFIX = "fleet/";
const QUEUE_PREFIX = "{discovery-scale}";
/** The discovery listing's page size (credentials.ts): a flat Vault folder is one LIST per page. */
const LIST_PAGES = Math.ceil(COUNT / 500);
const FLEET = fileURLToPath(new URL("./fixtures/vault-fleet.ts", import.meta.url));

interface Fleet {
  url: string;
  rootToken: string;
  ask<E extends FleetMessage["event"]>(
    request: FleetRequest,
    answer: E,
  ): Promise<Extract<FleetMessage, { event: E }>>;
  /** Store requests the emulator answered so far, and how many of them were LISTs. */
  counters(): Promise<{ requests: number; lists: number }>;
  stop(): Promise<void>;
}

async function startFleet(): Promise<Fleet> {
  const child = fork(FLEET, [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const exited = once(child, "exit");
  const next = <E extends FleetMessage["event"]>(event: E) =>
    new Promise<Extract<FleetMessage, { event: E }>>((resolve, reject) => {
      const onMessage = (message: FleetMessage): void => {
        if (message.event !== event) return;
        child.off("message", onMessage);
        resolve(message as Extract<FleetMessage, { event: E }>);
      };
      child.on("message", onMessage);
      exited.then(() => reject(new Error(`the Vault fleet exited before "${event}"`)));
    });
  const { url, rootToken } = await next("ready");
  const ask: Fleet["ask"] = (request, answer) => {
    const answered = next(answer);
    child.send(request);
    return answered;
  };
  return {
    url,
    rootToken,
    ask,
    counters: () => ask({ op: "counters" }, "counters"),
    async stop() {
      child.disconnect();
      await exited;
    },
  };
}

describe("discovery of 10,000 credentials", () => {
  let redis: RedisServer;
  let vault: Fleet;
  let dir: string;
  let runtime: Runtime;
  let connection: Redis;
  let blocking: Redis;
  let producer: Producer;
  let worker: Worker;
  let scans: QueueWatch;
  const rule = { store: "main", prefix: PREFIX };

  before(async () => {
    redis = await startRedis();
    vault = await startFleet();
    dir = await mkdtemp(join(tmpdir(), "certrotor-discovery-scale-"));
    const now = new Date();
    const ca = await aCa({ now });
    // due: two thirds of its 90 days are behind it; outside the critical window, so no alert per credential
    const cert = await aClientCert({
      ca,
      now,
      notBefore: new Date(now.getTime() - days(70)),
      notAfter: new Date(now.getTime() + days(20)),
    });
    const material = {
      clientId: "set-per-credential",
      certPem: cert.certPem,
      chainPem: ca.certPem,
      keyPem: cert.keyPem,
      fingerprint: cert.fingerprint,
      notAfter: cert.notAfter.toISOString(),
    };
    await vault.ask({ op: "seed", prefix: PREFIX, count: COUNT, material }, "seeded");
    const config = configSchema.parse({
      redis: { url: redis.url, prefix: QUEUE_PREFIX },
      stateDir: join(dir, "state"),
      stores: {
        main: { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } },
      },
      // never called: the scan is store-only
      banks: { bank: { kind: "banking-api", url: "https://bank.invalid", adminApiKey: "unused" } },
      issuers: { ca: { kind: "local-ca", store: "main", path: "ca/issuing" } },
      discovery: [
        { ...rule, bank: "bank", issuer: "ca", keyType: "p256", renewal: { jitter: 0, attempts: 7 } },
      ],
      // due for 10 days: not yet "overdue", so the scan raises no alert per credential
      alerts: { overdueAfter: "30d" },
      log: { level: "silent" },
    });
    runtime = await createRuntime(config, { logger: createLogger({ level: "silent" }), role: "worker" });
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    producer = createProducer(connection, QUEUE_PREFIX);
    scans = await QueueWatch.start(redis.url, QUEUES.scan, QUEUE_PREFIX);
    blocking = new Redis(redis.url, { maxRetriesPerRequest: null });
    worker = new Worker(QUEUES.scan, createScanProcessor(runtime, producer, undefined, { skipBank: true }), {
      connection: blocking,
      prefix: QUEUE_PREFIX,
    });
  });
  after(async () => {
    await worker?.close();
    blocking?.disconnect();
    await scans?.close();
    await producer?.close();
    connection?.disconnect();
    await runtime?.close();
    await vault?.stop();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("scans and enqueues every credential with O(n) store requests, and its jobs resolve without any", async () => {
    const before = await vault.counters();
    const job = await producer.queues.scan.add("scan", {});
    const outcome = await scans.next(job.id!);
    assert.equal(outcome.status, "completed", outcome.status === "failed" ? outcome.reason : "");
    const result = (outcome as { value: ScanResult }).value;
    const after = await vault.counters();
    const requests = after.requests - before.requests;
    process.stderr.write(
      `discovery-scale: ${COUNT} credentials scanned and enqueued with ${requests} store requests (${(requests / COUNT).toFixed(3)} per credential)\n`,
    );
    assert.equal(result.scanned, COUNT);
    assert.equal(result.enqueued.length, COUNT);
    // one listing (its pages) and two reads per credential (current, pending); nothing per due entry, and
    // a few requests once per store (the Vault adapter's KV mount preflight)
    assert.equal(after.lists - before.lists, LIST_PAGES, "the store was listed once");
    const ONCE_PER_STORE = 5;
    assert.ok(
      requests <= 2 * COUNT + LIST_PAGES + ONCE_PER_STORE,
      `${requests} store requests for ${COUNT} credentials`,
    );

    const jobs: Job[] = await producer.queues.rotate.getJobs(["waiting"], 0, COUNT);
    assert.equal(jobs.length, COUNT);
    const key = discoveryRuleKey(rule);
    const resolvedBefore = (await vault.counters()).requests;
    const resolved = new Map<string, ResolvedCredential>();
    for (const queued of jobs) {
      const data: RotateJobData = rotateJobData.parse(queued.data);
      assert.equal(queued.opts.attempts, 7, "the discovery rule's attempts");
      assert.equal(data.discovery?.rule, key);
      assert.equal(data.discovery?.store, "main");
      assert.match(data.discovery?.path ?? "", /^fleet\/cred-\d+$/);
      // what the rotate and retire jobs do with it
      resolved.set(data.credentialId, await runtime.credential(data.credentialId, data.discovery));
    }
    assert.equal((await vault.counters()).requests, resolvedBefore, "no store request for 10,000 jobs");

    const listed = await listCredentials(runtime.config, runtime.stores);
    assert.equal(listed.length, COUNT);
    // what the listing saw (`listed`: a pending hint, its time) is the scan's alone, never in a job
    for (const { listed: seen, ...credential } of listed) {
      assert.ok(seen, "a listed credential carries what its listing saw");
      assert.deepEqual(resolved.get(credential.id), credential);
    }
  });

  it("still resolves a job of an older version (no reference) by listing", async () => {
    const before = await vault.counters();
    const credential = await runtime.credential("fleet-cred-4242");
    assert.equal(credential.ref.path, "fleet/cred-4242");
    assert.equal(credential.policy.attempts, 7);
    const after = await vault.counters();
    assert.equal(after.requests - before.requests, LIST_PAGES, "one listing");
    assert.equal(after.lists - before.lists, LIST_PAGES);
  });
});
