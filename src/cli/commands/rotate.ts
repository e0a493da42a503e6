import type { Command } from "commander";
import {
  alertRotationOutcome,
  cutOverAlerts,
  failureAlert,
  taskInstruction,
} from "../../alerts/rotation-alerts.js";
import { loadConfig } from "../../config/load.js";
import { CertrotorError, toCertrotorError } from "../../errors.js";
import { createFollower, createWorkerProbe } from "../../queue/follow.js";
import { createProducer } from "../../queue/producer.js";
import { jobReference, type ResolvedCredential } from "../../rotation/credentials.js";
import { type RunResult, rotationIdFor, runRotation } from "../../rotation/run.js";
import { createRuntime, type Runtime } from "../../runtime.js";
import { formatDuration } from "../../config/duration.js";
import { dryRun } from "../../rotation/dry-run.js";
import { durationArg } from "../args.js";
import { addConfigOption, makeLogger } from "../context.js";
import { EXIT, exitCodeFor } from "../errors.js";
import { inlineAlerts } from "../inline-alerts.js";
import { progressLines } from "../progress.js";

interface RotateOptions {
  config: string;
  wait?: boolean;
  /** --wait: how long the queue may be without a worker before the command gives up. */
  workerTimeout: number;
  force?: boolean;
  inline?: boolean;
  dryRun?: boolean;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

async function rotateInline(runtime: Runtime, resolved: ResolvedCredential, force: boolean): Promise<number> {
  // on-demand rotations are never "not due"; --force also lets register free a slot held by a stale own cert
  const credential = force
    ? { ...resolved, policy: { ...resolved.policy, unbindStaleOwnCerts: true } }
    : resolved;
  const base = runtime.depsFor(credential);
  const alerts = inlineAlerts(runtime, out);
  const deps = {
    ...base,
    observers: [...(base.observers ?? []), progressLines(out), cutOverAlerts(alerts.deps, credential)],
  };
  out(`rotate ${credential.id} (inline)`);
  const rotationId = await rotationIdFor(deps, credential.id);
  let outcome: RunResult | CertrotorError;
  try {
    outcome = await runRotation(deps, credential, {
      trigger: "on-demand",
      force: true,
      rotationId,
      onRetry: ({ attempt, delayMs, error }) =>
        out(
          `  attempt ${attempt} failed: ${error.code}: ${error.message}; retrying in ${Math.round(delayMs / 1000)} s`,
        ),
      onFailure: { alert: failureAlert(alerts.deps, deps.store) },
    });
    if ("record" in outcome)
      await alertRotationOutcome(alerts.deps, { credential, store: deps.store, rotationId, outcome });
  } catch (thrown) {
    outcome = toCertrotorError(thrown);
  } finally {
    await alerts.close();
  }
  if (!("status" in outcome)) throw outcome;
  const result = outcome;
  switch (result.status) {
    case "not-due":
      out(`not due: ${result.message}`);
      return EXIT.ok;
    case "succeeded":
      out(
        `succeeded: rotation ${result.rotationId}, new certificate ${result.record.newFingerprint?.slice(0, 16)}…, old one unbound`,
      );
      return EXIT.ok;
    case "retire-due":
      out(
        `promoted: rotation ${result.rotationId}, new certificate ${result.record.newFingerprint?.slice(0, 16)}… is current; the old one is retired from ${result.retireDueAt.toISOString()} (certrotor retire-due)`,
      );
      return EXIT.ok;
    case "awaiting-registration":
      out(
        `awaiting registration: rotation ${result.rotationId} staged certificate ${result.record.newFingerprint?.slice(0, 16)}…; task ${result.task.id}: ${taskInstruction(result.task)}, by ${result.task.deadline}. Run rotate again (or let a worker) once it is done.`,
      );
      return EXIT.ok;
    case "consumers-on-old-cert":
      out(`promoted, but CONSUMERS_ON_OLD_CERT: ${result.record.errorMessage}`);
      return EXIT.failed;
    case "failed":
      out(
        `failed after ${result.attempts} attempt(s): ${result.error.toSafeString()}; rolled back (${result.rollback.unbound ? "new cert unbound, " : ""}${result.rollback.droppedPending ? "pending dropped, " : ""}old material still current)`,
      );
      return EXIT.failed;
    case "finished":
      out(`rotation ${result.rotationId} had already finished (${result.record.status}): nothing to do`);
      return EXIT.ok;
  }
}

async function rotateDryRun(
  runtime: Runtime,
  credential: ResolvedCredential,
  force: boolean,
): Promise<number> {
  out(`rotate ${credential.id} --dry-run: nothing is changed; what a rotation would do now:`);
  const bank = runtime.config.banks[credential.bank];
  const plan = await dryRun(runtime.depsFor(credential), credential, { force, ...(bank ? { bank } : {}) });
  for (const { step, says } of plan.steps) out(`  ${step.padEnd(9)} ${says}`);
  if (!plan.refusal) {
    out("would rotate");
    return EXIT.ok;
  }
  out(`would stop: ${plan.refusal.toSafeString()}`);
  return exitCodeFor(plan.refusal);
}

async function rotateQueued(
  runtime: Runtime,
  credential: ResolvedCredential,
  options: RotateOptions,
): Promise<number> {
  const redis = runtime.redis;
  if (!redis) throw new CertrotorError("INTERNAL", "rotate: a queued rotation without Redis state");
  const connection = redis.connect("command");
  connection.on("error", () => undefined);
  const probe = options.wait ? createWorkerProbe(connection, redis.settings.prefix) : undefined;
  const follower = probe
    ? await createFollower(connection, redis.settings.prefix, {
        workers: probe.count,
        noWorkerMs: options.workerTimeout,
      })
    : undefined;
  let producer: ReturnType<typeof createProducer> | undefined;
  const noWorker = (why: string): CertrotorError =>
    new CertrotorError("NO_WORKER", `rotate ${credential.id} --wait: ${why}`, {
      hint: `start \`certrotor worker\` with this config (redis.url and redis.prefix "${redis.settings.prefix}"), or run the rotation here with rotate --inline`,
      details: { prefix: redis.settings.prefix },
    });
  try {
    if (follower && !(await follower.waitForWorker())) {
      throw noWorker(
        `no worker consumed the rotate queue within ${formatDuration(options.workerTimeout)}; nothing was queued`,
      );
    }
    // made only now: the queue's first use writes its metadata, and a refused --wait writes nothing
    producer = createProducer(connection, redis.settings.prefix);
    const queued = await producer.enqueueRotate({
      ...jobReference(credential),
      trigger: "on-demand",
      attempts: credential.policy.attempts,
      ...(options.force ? { unbindStale: true } : {}),
    });
    out(
      queued.added
        ? `queued rotation ${queued.rotationId} of ${credential.id} (job ${queued.jobId})`
        : `a rotation of ${credential.id} is already queued or running: ${queued.rotationId} (nothing added)`,
    );
    if (!follower) return EXIT.ok;
    let last: { step: string; at: number } | undefined;
    const outcome = await follower.follow(queued.jobId, (step, at) => {
      if (last) out(`  ${last.step.padEnd(9)} ${at - last.at} ms`);
      last = { step, at };
    });
    if (outcome.status === "no-worker") {
      throw noWorker(
        `no worker has consumed the rotate queue for ${formatDuration(Math.round(outcome.forMs / 1000) * 1000)}; rotation ${queued.rotationId} stays queued (job ${queued.jobId}) and runs when a worker starts`,
      );
    }
    if (outcome.status === "failed") {
      out(`failed: ${outcome.reason}`);
      return EXIT.failed;
    }
    if (outcome.status === "parked") {
      out(
        `awaiting registration: rotation ${queued.rotationId} waits on task ${outcome.taskId} (certrotor task show ${outcome.taskId}); the workers look again by themselves`,
      );
      return EXIT.ok;
    }
    const result = outcome.result as {
      status?: string;
      newFingerprint?: string;
      retireDueAt?: string;
    } | null;
    out(
      `${result?.status ?? "completed"}: rotation ${queued.rotationId}${result?.newFingerprint ? `, new certificate ${result.newFingerprint.slice(0, 16)}…` : ""}${result?.retireDueAt ? `, old one retired from ${result.retireDueAt}` : ""}`,
    );
    return result?.status === "consumers-on-old-cert" ? EXIT.failed : EXIT.ok;
  } finally {
    await follower?.close();
    await probe?.close();
    await producer?.close();
    connection.disconnect();
  }
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("rotate <credential>")
      .description(
        "Rotate one credential on demand: queued for the workers, or --inline in this process without Redis",
      )
      .option("--wait", "follow the rotation step by step and exit with its outcome")
      .option(
        "--worker-timeout <duration>",
        "with --wait: give up (NO_WORKER, exit 69) when no worker consumes the queue for this long",
        durationArg,
        30_000,
      )
      .option("--force", "may unbind a stale certificate certrotor issued earlier to free a bank slot")
      .option(
        "--dry-run",
        "print what a rotation would do now, step by step, from read-only calls; change nothing",
      )
      .option(
        "--inline",
        "run the saga in this process (always waits); it takes the same lease as the workers when redis: is configured",
      ),
  ).action(async (credentialId: string, options: RotateOptions) => {
    const config = await loadConfig(options.config);
    if (!options.inline && !options.dryRun && !config.redis) {
      throw new CertrotorError(
        "CONFIG_INVALID",
        `rotate ${credentialId}: a queued rotation needs a redis: section (the workers' queues live in Redis)`,
        { hint: "add redis: { url: ... } to the config, or run the rotation here with rotate --inline" },
      );
    }
    const logger = makeLogger(program, config);
    const runtime = await createRuntime(config, { logger });
    try {
      const credential = await runtime.credential(credentialId);
      process.exitCode = options.dryRun
        ? await rotateDryRun(runtime, credential, options.force ?? false)
        : options.inline
          ? await rotateInline(runtime, credential, options.force ?? false)
          : await rotateQueued(runtime, credential, options);
    } finally {
      await runtime.close();
    }
  });
}
