/**
 * Helpers for the queue tests: worker processes run through the real CLI, waiting on BullMQ's queue
 * events (never on time), and reading every key in Redis for the secret scan.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import type { Config, RedisConfig } from "../../src/config/schema.js";
import { BIN, CLI_ENV } from "../fixtures/cli.js";

export { BIN };
import { type RedisClient, redisConnection } from "../../src/redis/connection.js";
import { within } from "../../src/util/within.js";

export function queueConfig(
  config: Config,
  redisUrl: string,
  worker: Partial<Config["worker"]> = {},
  prefix = "{certrotor}",
): Config {
  return {
    ...config,
    redis: { url: redisUrl, prefix, connectTimeout: 5_000 },
    worker: {
      ...config.worker,
      port: 0,
      jobLockDuration: 2_000,
      rotationLease: 3_000,
      shutdownTimeout: 10_000,
      ...worker,
    },
  };
}

export async function writeConfig(dir: string, config: Config, name = "config.json"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(config));
  return path;
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the worker printed that it listens. */
  ready: Promise<void>;
  /** Resolves once it exited and its output is all read (stdout and stderr closed). */
  closed: Promise<void>;
}

/** `extraArgs`: more CLI arguments; `env`: more environment variables for the worker process. */
export function spawnWorker(
  configPath: string,
  extraArgs: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): WorkerProcess {
  return spawnProcess(
    [BIN, "worker", "--config", configPath, "--log-level", "warn", ...extraArgs],
    "certrotor worker: listening",
    env,
  );
}

/**
 * A Node child running `args` (a script and its arguments), its stdout and stderr collected; `ready`
 * resolves once its output holds `readyMarker`, and rejects if it exits first.
 */
export function spawnProcess(
  args: readonly string[],
  readyMarker: string,
  env: NodeJS.ProcessEnv = {},
): WorkerProcess {
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...CLI_ENV, ...env },
  });
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(readyMarker)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`process exited (${code}) before ready: ${output}`)));
  });
  ready.catch(() => undefined);
  const closed = once(child, "close").then(() => undefined);
  return { child, output: () => output, ready, closed };
}

/**
 * `promise`, or a rejection naming `what` once `ms` passed (a bound on a wait, not a measurement); `what`
 * may be a function, called when the bound is hit (e.g. to show a process's output by then).
 */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not within ${ms} ms: ${typeof what === "string" ? what : what()}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the process's output (stdout and stderr) matches `pattern`; rejects after `ms`. */
export function outputMatches(proc: WorkerProcess, pattern: RegExp | string, ms: number): Promise<void> {
  const matches = (): boolean =>
    typeof pattern === "string" ? proc.output().includes(pattern) : pattern.test(proc.output());
  let check = (): void => undefined;
  const seen = new Promise<void>((resolve) => {
    check = () => {
      if (matches()) resolve();
    };
    proc.child.stdout!.on("data", check);
    proc.child.stderr!.on("data", check);
    check();
  });
  return bounded(seen, ms, () => `output ${String(pattern)}; got:\n${proc.output()}`).finally(() => {
    proc.child.stdout!.off("data", check);
    proc.child.stderr!.off("data", check);
  });
}

/** Exit code and signal of the process, once it exited and its output is all read; rejects after `ms`. */
export function exitOf(
  proc: WorkerProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { child } = proc;
  return bounded(
    proc.closed.then(() => ({ code: child.exitCode, signal: child.signalCode })),
    ms,
    `exit of pid ${child.pid}`,
  );
}

/** Calls `probe` until it returns something other than undefined (every `everyMs`); rejects after `ms`. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  ms: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function stopWorker(
  worker: WorkerProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<number | null> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return worker.child.exitCode;
  const exited = once(worker.child, "exit");
  worker.child.kill(signal);
  const [code] = (await exited) as [number | null];
  return code;
}

/** Counts rotate-queue outcomes by job id; `until(n)` resolves once n jobs completed. */
export class RotateWatcher {
  readonly completed = new Map<string, unknown>();
  readonly failed = new Map<string, string>();
  readonly progress: Array<{ jobId: string; step: string }> = [];
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly stepWaiters: Array<{ step: string; resolve: (jobId: string) => void }> = [];
  private constructor(
    readonly events: QueueEvents,
    private readonly connection: RedisClient,
  ) {}

  /** `redis`: a standalone URL, or a redis: section (a cluster, a Sentinel group). */
  static async start(redis: string | RedisConfig, prefix: string): Promise<RotateWatcher> {
    const connection =
      typeof redis === "string"
        ? new Redis(redis, { maxRetriesPerRequest: null })
        : redisConnection(redis, "blocking");
    connection.on("error", () => undefined);
    const events = new QueueEvents("rotate", { connection, prefix });
    events.on("error", () => undefined);
    await events.waitUntilReady();
    const watcher = new RotateWatcher(events, connection);
    events.on("completed", ({ jobId, returnvalue }) => {
      watcher.completed.set(jobId, returnvalue);
      watcher.settle();
    });
    events.on("failed", ({ jobId, failedReason }) => {
      watcher.failed.set(jobId, failedReason);
      watcher.settle();
    });
    events.on("progress", ({ jobId, data }) => {
      const step = (data as { step?: string }).step;
      if (!step) return;
      watcher.progress.push({ jobId, step });
      for (const waiter of watcher.stepWaiters.splice(0)) {
        if (waiter.step === step) waiter.resolve(jobId);
        else watcher.stepWaiters.push(waiter);
      }
    });
    return watcher;
  }

  private settle(): void {
    const done = this.completed.size + this.failed.size;
    for (const waiter of this.waiters.splice(0)) {
      if (done >= waiter.n) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  /** Resolves once `n` jobs completed or failed (each job id counted once). */
  until(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ n, resolve });
      this.settle();
    });
  }

  /** `until(n)` with a bound: rejects after `ms`, saying how many jobs completed and failed by then. */
  within(n: number, ms: number): Promise<void> {
    return bounded(
      this.until(n),
      ms,
      () =>
        `${n} rotate jobs to finish: ${this.completed.size} completed, ${this.failed.size} failed (${[...this.failed.values()].join("; ")}), last steps: ${this.progress
          .slice(-5)
          .map((p) => `${p.jobId}:${p.step}`)
          .join(", ")}`,
    );
  }

  /** Resolves with the job id of the next job that starts `step`. */
  nextStep(step: string): Promise<string> {
    return new Promise((resolve) => this.stepWaiters.push({ step, resolve }));
  }

  /**
   * QueueEvents.close() waits for its connection's 'end', which a connection still reconnecting (after a
   * failover, a Redis stopped) never emits, and a pending disconnect holds nothing open: so the close is
   * awaited for a moment only, after its connection was dropped.
   */
  async close(): Promise<void> {
    (await within(this.events.backend.client, 5_000, undefined).catch(() => undefined))?.disconnect();
    await within(this.events.close(), 2_000, undefined).catch(() => undefined);
    this.connection.disconnect();
  }
}

/** Every value stored in Redis, as text: strings, hashes, lists, sets, sorted sets and streams. */
export async function dumpRedis(url: string): Promise<string> {
  const redis = new Redis(url);
  try {
    const parts: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        parts.push(key);
        if (type === "string") parts.push((await redis.get(key)) ?? "");
        else if (type === "hash") parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === "list") parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === "set") parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === "zset")
          parts.push(JSON.stringify(await redis.zrange(key, "0", "-1", "WITHSCORES")));
        else if (type === "stream") parts.push(JSON.stringify(await redis.xrange(key, "-", "+")));
      }
    } while (cursor !== "0");
    return parts.join("\n");
  } finally {
    redis.disconnect();
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `certrotor <args>` (the real CLI, from source) to its exit; SIGKILLs it and rejects after `ms`. */
export async function runCli(args: readonly string[], ms = 30_000): Promise<CliResult> {
  const proc = spawnProcess([BIN, ...args], "\0never");
  let stdout = "";
  let stderr = "";
  proc.child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  proc.child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const { code } = await exitOf(proc, ms);
    return { code, stdout, stderr };
  } catch (error) {
    proc.child.kill("SIGKILL");
    throw new Error(`certrotor ${args.join(" ")}: ${String(error)}; output: ${proc.output()}`);
  }
}
