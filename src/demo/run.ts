/**
 * `certrotor demo`: the whole product on embedded defaults. A bank sandbox and a private CA, a credential
 * whose certificate expires in a few days in the encrypted file store, bound at the bank; then scan →
 * rotate (through the real queue when Redis is available, inline otherwise) → verify → promote → retire,
 * and a before/after report whose token calls are made after the rotation finished.
 */
import { requireSlots } from "../bank/capabilities.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BankClient, ClientMaterial } from "../bank/types.js";
import type { Config, KeyType, RedisConfig } from "../config/schema.js";
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { Redis } from "ioredis";
import { redactUrl } from "../redis/connection.js";
import { assertRedisReachable } from "../redis/probe.js";
import { createFollower } from "../queue/follow.js";
import type { Producer } from "../queue/producer.js";
import type { RotationObserver } from "../rotation/context.js";
import { runRotation } from "../rotation/run.js";
import { scan } from "../rotation/scan.js";
import { createRuntime, type Runtime } from "../runtime.js";
import type { Material } from "../stores/types.js";
import { assertRedisInstalled, type RedisServer, startRedis } from "../util/redis-server.js";
import { createDemoWorld, type DemoWorld } from "./world.js";

export interface DemoSide {
  fingerprint: string;
  notAfter: string;
  boundFingerprints: string[];
  /** HTTP status of a token call with this material, made after the rotation finished. */
  tokenStatus: number;
}

export interface DemoReport {
  mode: "queue" | "inline";
  credentialId: string;
  clientId: string;
  before: DemoSide;
  after: DemoSide;
  steps: Array<{ step: string; ms: number }>;
}

export interface DemoOptions {
  keyType: KeyType;
  logger: Logger;
  /** Progress lines for people (omitted with --json). */
  say: (line: string) => void;
  /** Redis to use; when absent a local redis-server is started if installed, else the demo runs inline. */
  redisUrl?: string;
  /** Keep the world (sandbox) running after the report, for --serve. */
  keep?: boolean;
  /**
   * Starts the queue worker (jobs/worker.ts). Handed in by the CLI, the one layer that may import jobs/,
   * so the library below it never depends on the queue processors.
   */
  startWorker: StartWorker;
}

/** The part of jobs/worker.ts's startWorker the demo uses. */
export type StartWorker = (
  config: Readonly<Config>,
  options: { logger: Logger; port: number; host: string; schedules: boolean },
) => Promise<{ runtime: Runtime; producer: Producer; stop(): Promise<void> }>;

export interface DemoResult {
  report: DemoReport;
  world: DemoWorld;
  material: Material;
  clientSecret: string;
  /** Stops the sandbox and the demo's Redis, removes the working folder. */
  stop(): Promise<void>;
}

/** The demo's redis: section for a URL (its own prefix, so it never meets a real deployment's keys). */
function redisSettings(url: string): RedisConfig {
  return { url, prefix: "{certrotor-demo}", connectTimeout: 5_000 };
}

async function pickRedis(options: DemoOptions): Promise<{ url?: string; server?: RedisServer; why: string }> {
  if (options.redisUrl) {
    try {
      await assertRedisReachable(redisSettings(options.redisUrl));
      return { url: options.redisUrl, why: `Redis at ${redactUrl(options.redisUrl)}` };
    } catch {
      return { why: `Redis at ${redactUrl(options.redisUrl)} is not reachable` };
    }
  }
  try {
    assertRedisInstalled();
  } catch {
    return { why: "redis-server is not installed" };
  }
  const server = await startRedis();
  return { url: server.url, server, why: `a local redis-server started for the demo on port ${server.port}` };
}

async function tokenStatus(
  bank: BankClient,
  material: ClientMaterial,
  clientId: string,
  clientSecret: string,
): Promise<number> {
  try {
    await bank.requestToken(material, { clientId, clientSecret });
    return 200;
  } catch (error) {
    if (isCertrotorError(error) && typeof error.details.status === "number") return error.details.status;
    return 0;
  }
}

/** Turns "step started at t" marks into per-step durations. */
function stepTimer(steps: DemoReport["steps"], say: (line: string) => void) {
  let last: { step: string; at: number } | undefined;
  const close = (at: number): void => {
    if (!last) return;
    steps.push({ step: last.step, ms: at - last.at });
    say(`  ${last.step.padEnd(9)} ${at - last.at} ms`);
  };
  return {
    mark(step: string, at: number) {
      if (last?.step === step) return;
      close(at);
      last = { step, at };
    },
    end(at: number) {
      close(at);
      last = undefined;
    },
  };
}

async function rotateThroughQueue(
  redisUrl: string,
  credentialId: string,
  timer: ReturnType<typeof stepTimer>,
  enqueue: () => Promise<{ jobId: string }>,
): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const follower = await createFollower(connection, redisSettings(redisUrl).prefix);
  try {
    const started = Date.now();
    const { jobId } = await enqueue();
    const outcome = await follower.follow(jobId, (step, at) => timer.mark(step, at));
    timer.end(Date.now() - started);
    if (outcome.status === "failed") {
      throw new CertrotorError(
        "ROTATION_FAILED",
        `demo rotation of ${credentialId} failed: ${outcome.reason}`,
      );
    }
  } finally {
    await follower.close();
    connection.disconnect();
  }
}

async function snapshot(runtime: Runtime, credentialId: string) {
  const credential = await runtime.credential(credentialId);
  const deps = runtime.depsFor(credential);
  const current = await deps.store.readCurrent(credential.ref);
  const bound = (await requireSlots(deps.bank).listSlots(current.material.clientId)).map(
    (s) => s.fingerprint,
  );
  return { credential, deps, material: current.material, bound };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { say } = options;
  const dir = await mkdtemp(join(tmpdir(), "certrotor-demo-"));
  const cleanup: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const step of cleanup.splice(0)) await step().catch(() => undefined);
  };
  try {
    const world = await createDemoWorld({ dir, keyType: options.keyType });
    cleanup.unshift(() => world.stop());
    say(`bank sandbox listening on ${world.sandbox.url} (mTLS, 2 certificate slots per credential)`);
    const redis = await pickRedis(options);
    if (redis.server) cleanup.unshift(() => redis.server!.stop());
    const mode: DemoReport["mode"] = redis.url ? "queue" : "inline";
    say(`mode: ${mode} — ${redis.why}`);

    let runtime: Runtime;
    let enqueue:
      | ((credentialId: string, attempts: number, notAfter?: string) => Promise<{ jobId: string }>)
      | undefined;
    if (redis.url) {
      const config = {
        ...world.config,
        redis: redisSettings(redis.url),
        worker: { ...world.config.worker, port: 0 },
      };
      const worker = await options.startWorker(config, {
        logger: options.logger,
        port: 0,
        host: "127.0.0.1",
        schedules: false,
      });
      cleanup.unshift(() => worker.stop());
      runtime = worker.runtime;
      enqueue = (credentialId, attempts, notAfter) =>
        worker.producer.enqueueRotate({
          credentialId,
          trigger: "schedule",
          attempts,
          ...(notAfter ? { notAfter } : {}),
        });
    } else {
      runtime = await createRuntime(world.config, { logger: options.logger });
      cleanup.unshift(() => runtime.close());
    }

    const before = await snapshot(runtime, world.credentialId);
    say(
      `credential ${world.credentialId} (client_id ${world.clientId}): certificate ${before.material.fingerprint.slice(0, 16)}… expires ${before.material.notAfter}`,
    );
    const report = await scan(runtime);
    for (const entry of report.entries)
      say(`scan: ${entry.credentialId}: ${entry.decision} — ${entry.message}`);

    const steps: DemoReport["steps"] = [];
    const timer = stepTimer(steps, say);
    say("rotating:");
    if (enqueue) {
      const run = enqueue;
      await rotateThroughQueue(redis.url!, world.credentialId, timer, () =>
        run(world.credentialId, before.credential.policy.attempts, before.material.notAfter),
      );
    } else {
      const observers: RotationObserver[] = [
        (event) => {
          if (event.kind !== "step-finished") return;
          steps.push({ step: event.step, ms: Math.round(event.ms) });
          say(`  ${event.step.padEnd(9)} ${Math.round(event.ms)} ms`);
        },
      ];
      const result = await runRotation({ ...before.deps, observers }, before.credential, {
        trigger: "schedule",
      });
      if (result.status === "failed") throw result.error;
      if (result.status === "not-due")
        throw new CertrotorError("INTERNAL", `demo credential was not due: ${result.message}`);
    }

    const after = await snapshot(runtime, world.credentialId);
    const secret = before.material.clientSecret ?? "";
    const side = async (m: Material, bound: string[]): Promise<DemoSide> => ({
      fingerprint: m.fingerprint,
      notAfter: m.notAfter,
      boundFingerprints: bound,
      tokenStatus: await tokenStatus(
        after.deps.bank,
        { certPem: m.certPem, keyPem: m.keyPem },
        m.clientId,
        secret,
      ),
    });
    const result: DemoReport = {
      mode,
      credentialId: world.credentialId,
      clientId: world.clientId,
      before: await side(before.material, before.bound),
      after: await side(after.material, after.bound),
      steps,
    };
    return { report: result, world, material: after.material, clientSecret: secret, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
