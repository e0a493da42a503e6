/**
 * `npm run soak`: a bounded, self-stopping soak on loopback. N credentials (default 1,000) across the file
 * store, the Vault emulator and the AWS emulator, due at staggered times; 3 `certrotor worker` processes;
 * 5xx answers and dropped connections on the bank sandbox and both emulators; one worker SIGKILLed every
 * few seconds and restarted, or SIGSTOPped past its leases and SIGCONTed; Redis (AOF) restarted once, or
 * with SOAK_REDIS=cluster a Redis Cluster (3 masters, 3 replicas) whose master of the soak's slot is
 * SIGKILLed once (a failover). It stops when every credential's latest rotation
 * succeeded (or at the hard deadline), turns the faults off, checks every credential (verify.ts), writes
 * bench/soak.json and exits 1 on any credential not rotated, any violation, or no convergence.
 *
 * Environment (all optional): SOAK_CREDENTIALS, SOAK_WORKERS, SOAK_CONCURRENCY, SOAK_KILL_EVERY_MS,
 * SOAK_PAUSE_EVERY, SOAK_PAUSE_MS, SOAK_MIN_UPTIME_MS,
 * SOAK_DEADLINE_S, SOAK_ERROR_RATE, SOAK_DROP_RATE, SOAK_DROP_AFTER_RATE, SOAK_SCAN_EVERY_S,
 * SOAK_DUE_SPREAD_S, SOAK_REDIS (standalone|cluster), SOAK_REDIS_RESTART_AT, SOAK_PFX=1, SOAK_SEED, SOAK_OUT (report path), SOAK_KEEP=1
 * (keep the worker logs in bench/soak-logs), SOAK_WORKER_LOG, SOAK_WORKER_NODE_ARGS.
 */
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime } from "../../src/runtime.js";
import { watchBank } from "./bank-watch.js";
import { applyFaults, clearFaults, faultCounter } from "./faults.js";
import { type ProgressWatch, type Snapshot, watchProgress } from "./progress.js";
import { alertsRaised, buildReport, type RunFacts, writeReport } from "./report.js";
import { type Supervisor, superviseWorkers } from "./supervisor.js";
import { verifyAll } from "./verify.js";
import { buildSoakWorld, type SoakRedisMode, type SoakWorld } from "./world.js";

const env = (name: string, fallback: number): number => {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new Error(`${name} must be a non-negative number, got "${value}"`);
  return parsed;
};

function scanPeriod(credentials: number): number {
  const wanted = credentials * 0.045;
  return [2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].find((period) => period >= wanted) ?? 60;
}

function redisMode(): SoakRedisMode {
  const value = process.env.SOAK_REDIS ?? "standalone";
  if (value !== "standalone" && value !== "cluster")
    throw new Error(`SOAK_REDIS must be standalone or cluster, got "${value}"`);
  return value;
}

const options = {
  redis: redisMode(),
  credentials: env("SOAK_CREDENTIALS", 1_000),
  workers: env("SOAK_WORKERS", 3),
  concurrency: env("SOAK_CONCURRENCY", 4),
  killEveryMs: env("SOAK_KILL_EVERY_MS", 6_000),
  /** Every this many chaos turns (0: never), the worker is paused (SIGSTOP … SIGCONT) instead of killed. */
  pauseEvery: env("SOAK_PAUSE_EVERY", 3),
  /** How long a pause lasts: past the rotation lease and the job lock, so its rotations are taken over. */
  pauseMs: env("SOAK_PAUSE_MS", 8_000),
  /** A worker is killed only after it has been up this long (its turn is skipped otherwise). */
  minUptimeMs: env("SOAK_MIN_UPTIME_MS", 8_000),
  deadlineS: env("SOAK_DEADLINE_S", 600),
  errorRate: env("SOAK_ERROR_RATE", 0.1),
  dropRate: env("SOAK_DROP_RATE", 0.02),
  dropAfterRate: env("SOAK_DROP_AFTER_RATE", 0.01),
  /**
   * A scan reads every credential (≈ 10 ms of CPU each here, both sides), so its period grows with the
   * count: ≈ 45 ms per credential, rounded up to a divisor of a minute (2 s for a few dozen, 60 s for 1,000).
   */
  scanEverySeconds: env("SOAK_SCAN_EVERY_S", scanPeriod(env("SOAK_CREDENTIALS", 1_000))),
  /** A quarter of the credentials are due at start, the rest over the spread. */
  dueSpreadS: env("SOAK_DUE_SPREAD_S", 120),
  jitterMs: 10_000,
  jobLockDurationMs: 3_000,
  rotationLeaseMs: 4_000,
  attempts: 10,
  /** PKCS#12 per rotation: off by default, the soak is about faults and crashes, not PFX throughput. */
  pfx: env("SOAK_PFX", 0) === 1,
  seed: env("SOAK_SEED", 1),
  /** Redis is restarted (cluster: a master failed over) once this share is rotated (above 1: never). */
  redisRestartAt: env("SOAK_REDIS_RESTART_AT", 0.3),
};
if (options.pauseEvery > 0 && options.pauseMs <= Math.max(options.rotationLeaseMs, options.jobLockDurationMs))
  throw new Error(
    `SOAK_PAUSE_MS (${options.pauseMs}) must be longer than the rotation lease (${options.rotationLeaseMs} ms) and the job lock (${options.jobLockDurationMs} ms)`,
  );
const REPORT = process.env.SOAK_OUT ?? fileURLToPath(new URL("../soak.json", import.meta.url));
const POLL_MS = 3_000;
/** The journal (1 read per credential) is polled this often, or once the completions say all are done. */
const FULL_POLL_MS = 30_000;

const say = (line: string): void => void process.stderr.write(`soak: ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let abort: string | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => (abort = `stopped by ${signal}`));

interface ChaosState {
  redisMode: SoakRedisMode;
  redisRestarts: number;
  redisFailovers: number;
  /** Until Redis served again: the restart, or the kill of the master until its replica was promoted. */
  redisDowntimeMs: number;
}

function progressLine(
  t0: number,
  s: Snapshot | null,
  sup: Supervisor,
  watch: ProgressWatch,
  total: number,
): string {
  const secs = Math.round((Date.now() - t0) / 1000);
  if (!s) return `t=${secs}s redis unreachable (restart?) kills=${sup.kills} pauses=${sup.pauses}`;
  const c = watch.counters;
  const journal =
    s.source === "journal" ? ` (journal: rolled back ${s.rolledBack}, running ${s.running})` : "";
  return (
    `t=${secs}s rotated ${s.succeeded}/${total}${journal}, in flight ${s.active} (waiting ${s.waiting}, ` +
    `delayed ${s.delayed}), failed jobs ${c.failed}, stalled ${c.stalled}, kills ${sup.kills}, pauses ${sup.pauses} ` +
    `(skipped ${sup.skippedKills}), lost leases logged ${sup.lockLostLogged}`
  );
}

/** Runs the chaos until every credential's latest rotation succeeded, or the deadline. */
async function runUntilConverged(
  world: SoakWorld,
  sup: Supervisor,
  watch: ProgressWatch,
  chaos: ChaosState,
): Promise<boolean> {
  const t0 = Date.now();
  const deadline = t0 + options.deadlineS * 1000;
  const total = world.credentials.length;
  if (options.killEveryMs > 0)
    sup.startKilling({
      everyMs: options.killEveryMs,
      pauseEvery: options.pauseEvery,
      pauseMs: options.pauseMs,
    });
  let lastFull = t0;
  while (!abort) {
    await sleep(POLL_MS);
    const full = Date.now() - lastFull >= FULL_POLL_MS || watch.counters.succeeded >= total;
    if (full) lastFull = Date.now();
    const snapshot = await watch.snapshot(full);
    say(progressLine(t0, snapshot, sup, watch, total));
    // only the journal decides: a completion can be missed (a job whose lock was lost is run again)
    if (snapshot?.source === "journal" && snapshot.succeeded === total) return true;
    if (Date.now() > deadline) {
      abort = `not converged within the ${options.deadlineS}s deadline`;
      break;
    }
    const disrupted = chaos.redisRestarts + chaos.redisFailovers > 0;
    if (snapshot && !disrupted && snapshot.succeeded >= options.redisRestartAt * total) {
      const { kind, downtimeMs } = await world.redis.disrupt();
      if (kind === "restart") chaos.redisRestarts++;
      else chaos.redisFailovers++;
      chaos.redisDowntimeMs = downtimeMs;
      say(
        kind === "restart"
          ? `redis restarted (down ${downtimeMs} ms)`
          : `redis master of the soak's slot SIGKILLed: replica promoted after ${downtimeMs} ms, the old master back as a replica`,
      );
    }
  }
  return false;
}

async function main(): Promise<number> {
  const started = Date.now();
  say(`setting up ${options.credentials} credentials, ${options.workers} workers, Redis ${options.redis}`);
  const faults = faultCounter();
  const bank = watchBank();
  let world: SoakWorld | undefined;
  let sup: Supervisor | undefined;
  let watch: ProgressWatch | undefined;
  let keep = process.env.SOAK_KEEP === "1";
  process.once("exit", () => sup?.killAll());
  try {
    const spreadMs = options.dueSpreadS * 1000;
    const worldOptions = { ...options, dueFromMs: -spreadMs / 4, dueSpreadMs: spreadMs };
    world = await buildSoakWorld(worldOptions, (entry) => {
      faults.onBankRequest(entry);
      bank.onRequest(entry);
    });
    bank.attach(world.sandbox);
    const readFaults = faults.watch(world);
    watch = await watchProgress(
      world.config,
      world.credentials.map((c) => c.id),
    );
    const setupMs = Date.now() - started;
    say(`setup done in ${setupMs} ms (dir ${world.dir}); faults on, starting workers`);

    applyFaults(world, options, options.seed);
    sup = superviseWorkers(world.configPath, options.workers, join(world.dir, "logs"), options.minUptimeMs);
    await sup.ready(120_000);
    const chaos: ChaosState = {
      redisMode: options.redis,
      redisRestarts: 0,
      redisFailovers: 0,
      redisDowntimeMs: 0,
    };
    const runStart = Date.now();
    const converged = await runUntilConverged(world, sup, watch, chaos);
    const runMs = Date.now() - runStart;
    say(converged ? `converged in ${runMs} ms; stopping workers` : `stopping: ${abort}`);
    const finalExits = await sup.stopAll(30_000);
    for (const exit of finalExits.filter((e) => e.code !== 0))
      say(
        `worker ${exit.slot}-${exit.generation} ended ${exit.signal ?? `with code ${exit.code}`} ` +
          `${exit.stopMs} ms after SIGTERM (${exit.upWhenStopped ? "it was up" : "it was still starting"})`,
      );

    clearFaults(world);
    const verifyStart = Date.now();
    const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    const { verdicts, unattributedSigns } = await verifyAll(runtime, world.credentials, {
      unbinds: bank.unbinds,
      signs: bank.signs,
      finished: watch.finished,
    }).finally(() => runtime.close());
    const verifyMs = Date.now() - verifyStart;
    const facts: RunFacts = {
      options,
      converged,
      ...(abort ? { aborted: abort } : {}),
      timings: { setupMs, runMs, verifyMs, totalMs: Date.now() - started },
      chaos: {
        kills: sup.kills,
        pauses: sup.pauses,
        lockLostLogged: sup.lockLostLogged,
        workerStarts: sup.starts,
        skippedKills: sup.skippedKills,
        unexpectedExits: sup.unexpectedExits,
        ...chaos,
        finalExits,
      },
      queue: watch.counters,
      faults: readFaults(),
      bankViolations: bank.violations,
      unattributedSigns,
    };
    const report = buildReport(facts, verdicts, await alertsRaised(watch.queues.notify));
    writeReport(REPORT, report);
    say(
      `${report.result}: rotated ${report.credentials.rotated}/${report.credentials.total}, ` +
        `${report.violations.credentials} credentials with violations, ${report.rotations.rollbacks} rollbacks, ` +
        `${report.alerts.total} alerts, ${sup.kills} kills, ${sup.pauses} pauses (${sup.lockLostLogged} lost leases logged), ` +
        `issued twice ${report.integrity.issuedTwice}, audit events twice ${report.integrity.duplicateAuditEvents}, ` +
        `records changed after finishing ${report.integrity.changedAfterFinish}, run ${Math.round(runMs / 1000)} s; wrote ${REPORT}`,
    );
    for (const item of report.violations.list.slice(0, 10))
      say(`  ${item.id}: ${item.violations.join("; ")}`);
    if (report.result !== "passed") keep = true;
    return report.result === "passed" ? 0 : 1;
  } finally {
    sup?.killAll();
    await watch?.close();
    if (world && keep) {
      const saved = join(fileURLToPath(new URL("..", import.meta.url)), "soak-logs");
      await cp(join(world.dir, "logs"), saved, { recursive: true }).catch(() => undefined);
      say(`worker logs kept in ${saved}`);
    }
    await world?.stop();
  }
}

// the whole run, cleanup included, is bounded: a hang anywhere fails it instead of running forever
const watchdog = setTimeout(
  () => {
    say("watchdog: the run overran its bound; exiting");
    process.exit(2);
  },
  (options.deadlineS + 300) * 1000,
);
watchdog.unref();

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    say(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
