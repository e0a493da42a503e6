/**
 * The worker process: BullMQ workers for scan, rotate, retire and notify, the cron schedulers, the
 * health server, and a graceful shutdown that finishes (or releases) the current steps within a bound.
 */
import { hostname } from "node:os";
import { type MinimalJob, Worker } from "bullmq";
import { createNotifyProcessor } from "./notify.js";
import { createRetireProcessor } from "./retire.js";
import { createRotateProcessor, LOCKED_RETRY_MS } from "./rotate.js";
import { createScanProcessor } from "./scan.js";
import type { DeliveryRecorder } from "../src/alerts/deliver.js";
import type { Config, RedisConfig, RenewalPolicyConfig } from "../src/config/schema.js";
import { CertrotorError } from "../src/errors.js";
import type { Logger } from "../src/observability/logger.js";
import { createMetrics, type WorkerMetrics } from "../src/observability/metrics.js";
import { retryDelay } from "../src/rotation/backoff.js";
import type { RotationHooks } from "../src/rotation/context.js";
import { knownCredential } from "../src/rotation/credentials.js";
import { createRuntime, type Runtime } from "../src/runtime.js";
import { startHealthServer } from "../src/worker/health.js";
import type { ConsoleHandle } from "../src/console/server.js";
import { closeConnection, describeRedis, redisConnection } from "../src/redis/connection.js";
import { isRedisTransient, logRedisErrors } from "../src/redis/error-log.js";
import { waitForRedis, writeProbe } from "../src/redis/probe.js";
import { QUEUES } from "../src/queue/names.js";
import { within } from "../src/util/within.js";
import type { RotateJobData } from "../src/queue/payloads.js";
import { createProducer, type Producer } from "../src/queue/producer.js";

export interface WorkerOptions {
  logger: Logger;
  now?: () => Date;
  /** Port override (tests pass 0). */
  port?: number;
  host?: string;
  /** Do not create the cron schedulers (tests that add jobs by hand). */
  schedules?: boolean;
  /** Aborts the start while it waits for Redis (a stop signal during start-up). */
  signal?: AbortSignal;
  /** Fault-injection points of every rotation this worker runs (tests: crash or pause at a step). */
  hooks?: RotationHooks;
  /** Port of the console it mounts with console.enabled (tests pass 0; default console.port). */
  consolePort?: number;
}

export interface WorkerHandle {
  readonly runtime: Runtime;
  readonly producer: Producer;
  /** This worker's metrics (served on /metrics). */
  readonly metrics: WorkerMetrics;
  readonly port: number;
  /** The console this worker serves (console.enabled), on its own port. */
  readonly console?: ConsoleHandle;
  /** Finish or release the current jobs (bounded by worker.shutdownTimeout), close everything. */
  stop(): Promise<void>;
}

/**
 * Expiry-aware backoff for rotate jobs (BullMQ calls it with the attempts made so far), with the renewal
 * policy of the job's credential: configured, or its discovery rule's (rebuilt from the job's reference;
 * a job queued by an older version without one looks its credential up by listing).
 */
function backoffFor(runtime: Runtime) {
  const policyOf = async (data: RotateJobData): Promise<RenewalPolicyConfig> =>
    knownCredential(runtime.config, data.credentialId, data.discovery)?.policy ??
    (await runtime.credential(data.credentialId).then(
      (credential) => credential.policy,
      () => runtime.config.renewal,
    ));
  return async (
    attemptsMade: number,
    _type: string | undefined,
    _error: Error | undefined,
    job: MinimalJob | undefined,
  ): Promise<number> => {
    const data = job?.data as RotateJobData | undefined;
    const policy = data ? await policyOf(data) : runtime.config.renewal;
    const notAfter = data?.notAfter ? new Date(data.notAfter) : new Date(Date.now() + 365 * 86_400_000);
    return (
      retryDelay({ attempt: Math.max(1, attemptsMade), policy, notAfter, now: new Date() }) ?? policy.backoff
    );
  };
}

/** The notify job reports each delivery attempt by channel into the metrics. */
function alertRecorder(metrics: WorkerMetrics): DeliveryRecorder {
  return { record: (channel, _kind, outcome) => metrics.recordAlertDelivery(channel, outcome) };
}

/**
 * Stalls a rotate job survives. A stall is a worker that died or lost Redis mid-job, and the saga resumes
 * safely from any point (invariant 6). Past this count BullMQ fails the job without running it again:
 * no rollback, no alert, a rotation left half-done (a new cert bound, or promoted with the old cert never
 * retired). Three (BullMQ's crash-loop guard, kept for the other queues) was reached in the soak test by
 * workers killed every few seconds; genuine errors stay bounded by the job's attempts.
 */
export const ROTATE_MAX_STALLS = 25;

/**
 * How often the stalled-job check runs: a sixth of the job lock, 1 to 5 s. A killed worker's job is taken
 * over by the first check after its lock ran out, so this is what a takeover waits beyond the lock.
 */
export function stalledIntervalMs(jobLockDuration: number): number {
  return Math.min(5_000, Math.max(1_000, Math.floor(jobLockDuration / 6)));
}

/**
 * The bound docs/worker.md states for a killed worker's rotations to resume on
 * another worker: its job lock runs out (≤ jobLockDuration) and the next stalled check (≤ the interval
 * above, at most 5 s) puts the job back; the saga then waits for the dead holder's rotation lease
 * (≤ rotationLease), looking again when that lease would end, and at least every LOCKED_RETRY_MS.max (5 s). So max(jobLockDuration, rotationLease) +
 * 5 s: 35 s with the defaults (30 s, 30 s).
 */
export function resumeBoundMs(worker: Pick<Config["worker"], "jobLockDuration" | "rotationLease">): number {
  return Math.max(
    worker.jobLockDuration + stalledIntervalMs(worker.jobLockDuration),
    worker.rotationLease + LOCKED_RETRY_MS.max,
  );
}

/**
 * How long a BullMQ worker waits after a failed fetch or a failed move of a finished job (its default is
 * 15 s): short, so a worker is back at work within seconds of a failover or a restart.
 */
const RUN_RETRY_DELAY_MS = 1_000;

/** What start-up opened so far, closed in reverse order when a later part fails. */
class Openings {
  private readonly closers: Array<() => Promise<unknown>> = [];
  add(close: () => Promise<unknown>): void {
    this.closers.unshift(close);
  }
  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0)) await close().catch(() => undefined);
  }
}

/**
 * Starts the worker. Any failure on the way (Redis unreachable or refusing the credentials, the health
 * port taken, a store that cannot be built) closes what was opened and throws its coded error, so the
 * process exits instead of running half-started. The health server listens before any queue worker
 * exists: no job is taken by a worker without /healthz.
 */
export async function startWorker(config: Readonly<Config>, options: WorkerOptions): Promise<WorkerHandle> {
  const { logger } = options;
  const settings = config.redis;
  if (!settings) {
    throw new CertrotorError(
      "CONFIG_INVALID",
      "the worker needs a redis: section (its queues live in Redis)",
      {
        hint: "add redis: { url: redis://127.0.0.1:6379 } (or cluster: [nodes], or sentinel: { sentinels, name })",
      },
    );
  }
  await waitForRedis(settings, {
    timeoutMs: config.worker.startupTimeout,
    ...(options.signal ? { signal: options.signal } : {}),
    onWait: (error) =>
      logger.warn(
        { err: error.message, timeoutMs: config.worker.startupTimeout },
        "Redis is not reachable yet; waiting for it",
      ),
  });
  const opened = new Openings();
  try {
    return await startOn(config, settings, options, opened);
  } catch (error) {
    await opened.closeAll();
    throw error;
  }
}

async function startOn(
  config: Readonly<Config>,
  settings: RedisConfig,
  options: WorkerOptions,
  opened: Openings,
): Promise<WorkerHandle> {
  const { logger } = options;
  const runtime = await createRuntime(config, {
    logger,
    role: "worker",
    ...(options.now ? { now: options.now } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  opened.add(() => runtime.close());
  const errors = runtime.redis!.errors;
  // the jobs a rotation enqueues (retire, notify) wait out a failover like the journal's writes do
  const producerConn = redisConnection(settings, "state");
  const blocking = redisConnection(settings, "blocking");
  logRedisErrors(producerConn, errors, "producer");
  logRedisErrors(blocking, errors, "queue");
  for (const conn of [producerConn, blocking]) opened.add(() => closeConnection(conn));
  const { prefix } = settings;
  const probeKey = `${prefix}:probe:readyz:${hostname()}:${process.pid}`;
  const producer = createProducer(producerConn, prefix, {
    notifyAttempts: config.alerts.deliveryAttempts,
    notifyBackoffMs: config.alerts.deliveryBackoff,
  });
  opened.add(() => producer.close());
  const metrics = createMetrics();

  let workers: Worker[] = [];
  const health = await startHealthServer(
    options.port ?? config.worker.port,
    options.host ?? config.worker.host,
    {
      metrics,
      async ready() {
        const checks: Record<string, string> = {};
        // a write, not a PING: a replica (a demoted master, a stale address) answers PING but not SET
        checks.redis = await writeProbe(producerConn, probeKey);
        checks.workers = workers.length > 0 ? "running" : "starting";
        checks.stores = runtime.stores.size > 0 ? `${runtime.stores.size} configured` : "none configured";
        checks.banks = runtime.banks.size > 0 ? `${runtime.banks.size} configured` : "none configured";
        return {
          ok:
            checks.redis === "ok" && workers.length > 0 && runtime.stores.size > 0 && runtime.banks.size > 0,
          checks,
        };
      },
    },
  );
  opened.add(() => health.app.close());
  const consoleHandle = config.console.enabled
    ? // loaded only when enabled: the console's fastify plugins and pages are some MiB a worker without it need not hold
      await (await import("../src/console/server.js")).startConsole(
        { runtime, logger, producer },
        options.consolePort ?? config.console.port,
        config.console.host,
      )
    : undefined;
  if (consoleHandle) opened.add(() => consoleHandle.close());
  if (options.schedules !== false) await producer.upsertSchedules(config);
  metrics.watchQueues(Object.values(producer.queues));
  metrics.watchTasks(() => runtime.tasks.list({ status: "open" }));

  const common = {
    connection: blocking,
    prefix,
    lockDuration: config.worker.jobLockDuration,
    stalledInterval: stalledIntervalMs(config.worker.jobLockDuration),
    maxStalledCount: 3,
    runRetryDelay: RUN_RETRY_DELAY_MS,
  };
  workers = [
    new Worker(QUEUES.rotate, createRotateProcessor(runtime, producer, metrics), {
      ...common,
      maxStalledCount: ROTATE_MAX_STALLS,
      concurrency: config.worker.concurrency,
      settings: { backoffStrategy: backoffFor(runtime) },
    }),
    new Worker(QUEUES.scan, createScanProcessor(runtime, producer, metrics), { ...common, concurrency: 1 }),
    new Worker(QUEUES.retire, createRetireProcessor(runtime, producer), { ...common, concurrency: 2 }),
    new Worker(QUEUES.notify, createNotifyProcessor(runtime, { recorder: alertRecorder(metrics) }), {
      ...common,
      concurrency: 4,
    }),
  ];
  for (const worker of workers) {
    worker.on("error", (error) => {
      // what a failover makes every worker say, many times a second, is logged at a bounded rate
      if (isRedisTransient(error)) errors.report(`queue ${worker.name}`, error);
      else logger.warn({ queue: worker.name, err: error.message }, "worker error");
    });
    worker.on("failed", (job, error) =>
      logger.warn(
        { queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade, reason: error.message },
        "job failed",
      ),
    );
  }
  logger.info(
    { port: health.port, concurrency: config.worker.concurrency, prefix, redis: describeRedis(settings) },
    "worker started",
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // pause: take no new job and wait for the running ones; then a forced close, which drops the
      // connections. A graceful close() instead could not be cut short at the bound: BullMQ keeps the
      // first close, and its QUIT waits for ever in ioredis's offline queue when Redis is gone.
      const finishing = Promise.all(workers.map((w) => w.pause()));
      if ((await within(finishing, config.worker.shutdownTimeout, "timeout")) === "timeout")
        logger.warn("shutdown bound reached: releasing running jobs to other workers");
      await Promise.all(workers.map((w) => w.close(true)));
      await opened.closeAll();
      logger.info("worker stopped");
    })();
    return stopping;
  };
  return {
    runtime,
    producer,
    metrics,
    port: health.port,
    ...(consoleHandle ? { console: consoleHandle } : {}),
    stop,
  };
}
