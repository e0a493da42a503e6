/**
 * The soak's worker processes: N `certrotor worker` CLIs (from source), one log file per process, a
 * round-robin SIGKILL of one of them every few seconds with an immediate restart, and a note of every exit
 * the supervisor did not cause (a worker crashing on its own is a finding).
 *
 * Only a worker that is up (printed that it listens) and has been for `minUptimeMs` is killed: killing one
 * still starting tests nothing but Node's start-up, and on a loaded box keeps a slot from ever doing work.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/certrotor.js", import.meta.url));
/** Log level of the workers (their logs land in the soak's log dir): SOAK_WORKER_LOG, default warn. */
const LOG_LEVEL = process.env.SOAK_WORKER_LOG ?? "warn";
/** Extra Node flags for the workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": SOAK_WORKER_NODE_ARGS. */
const NODE_ARGS = (process.env.SOAK_WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);

/** How a worker ended the graceful stop at the end of the run. */
export interface FinalExit {
  slot: number;
  generation: number;
  code: number | null;
  signal: string | null;
  /** Whether it had printed that it listens (its SIGTERM handler is installed) when SIGTERM was sent. */
  upWhenStopped: boolean;
  /** From SIGTERM to exit. */
  stopMs: number;
  /** Last lines of its output, when it did not exit 0. */
  tail?: string;
}

export interface WorkerExit {
  slot: number;
  generation: number;
  code: number | null;
  signal: string | null;
  at: string;
  /** Last lines of its output. */
  tail: string;
}

interface Slot {
  index: number;
  child: ChildProcess;
  generation: number;
  up: boolean;
  /** When it printed that it listens. */
  upAt: number;
  ready: Promise<void>;
  expectedExit: boolean;
  tail: string;
}

export interface Supervisor {
  readonly kills: number;
  readonly starts: number;
  /** Kill turns skipped because the worker due was starting or had been up less than `minUptimeMs`. */
  readonly skippedKills: number;
  readonly unexpectedExits: readonly WorkerExit[];
  /** Resolves once every worker printed that it listens; throws after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Kills one worker every `everyMs` (round robin) until `stopKilling()`, restarting each at once. */
  startKilling(everyMs: number): void;
  stopKilling(): void;
  /** SIGTERM every worker (graceful: finish or release jobs) and wait; SIGKILL after `boundMs`. */
  stopAll(boundMs: number): Promise<FinalExit[]>;
  /** SIGKILL whatever still runs (cleanup on any path; synchronous, so usable in an exit handler). */
  killAll(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/**
 * `minUptimeMs`: a worker is killed only once it has been up this long, so on a loaded machine (where a
 * start from source takes seconds) every worker still gets to work between kills.
 */
export function superviseWorkers(
  configPath: string,
  count: number,
  logDir: string,
  minUptimeMs: number,
): Supervisor {
  const slots: Slot[] = [];
  const unexpectedExits: WorkerExit[] = [];
  const stats = { kills: 0, starts: 0, skippedKills: 0 };
  let turn = 0;
  let timer: NodeJS.Timeout | undefined;
  let killing: Promise<void> = Promise.resolve();
  let shuttingDown = false;

  const start = (index: number, generation: number): void => {
    const log = createWriteStream(join(logDir, `worker-${index}-${generation}.log`));
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, BIN, "worker", "--config", configPath, "--log-level", LOG_LEVEL],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, CERTROTOR_FROM_SOURCE: "1" },
      },
    );
    stats.starts++;
    let markReady = (): void => undefined;
    const slot: Slot = {
      index,
      child,
      generation,
      up: false,
      upAt: 0,
      ready: new Promise<void>((resolve) => {
        markReady = resolve;
      }),
      expectedExit: false,
      tail: "",
    };
    slots[index] = slot;
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      slot.tail = (slot.tail + chunk.toString()).slice(-2_000);
      if (!slot.up && slot.tail.includes("certrotor worker: listening")) {
        slot.up = true;
        slot.upAt = Date.now();
        markReady();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      log.end();
      if (slot.expectedExit || shuttingDown) return;
      const at = new Date().toISOString();
      unexpectedExits.push({ slot: index, generation, code, signal, at, tail: slot.tail });
      // a worker that died on its own is replaced too, so the run goes on and the finding is reported
      if (slots[index] === slot) start(index, generation + 1);
    });
  };

  const killTurn = async (): Promise<void> => {
    const slot = slots[turn++ % count]!;
    if (!slot.up || !alive(slot.child) || Date.now() - slot.upAt < minUptimeMs) {
      stats.skippedKills++;
      return;
    }
    slot.expectedExit = true;
    const exited = once(slot.child, "exit");
    slot.child.kill("SIGKILL");
    await exited;
    stats.kills++;
    if (!shuttingDown) start(slot.index, slot.generation + 1);
  };

  const stopKilling = (): void => {
    clearInterval(timer);
    timer = undefined;
  };

  for (let i = 0; i < count; i++) start(i, 0);

  return {
    get kills() {
      return stats.kills;
    },
    get starts() {
      return stats.starts;
    },
    get skippedKills() {
      return stats.skippedKills;
    },
    unexpectedExits,
    async ready(timeoutMs) {
      const until = Date.now() + timeoutMs;
      // polled, not awaited per slot: a worker that crashes while starting is replaced by a new slot
      while (!slots.every((slot) => slot.up)) {
        if (Date.now() > until) throw new Error(`workers not up within ${timeoutMs} ms`);
        await sleep(200);
      }
    },
    startKilling(everyMs) {
      timer = setInterval(() => {
        killing = killing.then(killTurn);
      }, everyMs);
    },
    stopKilling,
    async stopAll(boundMs) {
      stopKilling();
      await killing;
      shuttingDown = true;
      return Promise.all(
        slots.map(async (slot): Promise<FinalExit> => {
          slot.expectedExit = true;
          let upWhenStopped = slot.up;
          let stopMs = 0;
          if (alive(slot.child)) {
            const exited = once(slot.child, "exit");
            // a worker still starting has no SIGTERM handler yet: let it come up, then stop it gracefully
            await Promise.race([slot.ready, exited, sleep(boundMs)]);
            upWhenStopped = slot.up;
            const sent = Date.now();
            slot.child.kill("SIGTERM");
            const bound = setTimeout(() => slot.child.kill("SIGKILL"), boundMs);
            await exited;
            clearTimeout(bound);
            stopMs = Date.now() - sent;
          }
          const { exitCode: code, signalCode: signal } = slot.child;
          return {
            slot: slot.index,
            generation: slot.generation,
            code,
            signal,
            upWhenStopped,
            stopMs,
            ...(code === 0 ? {} : { tail: slot.tail }),
          };
        }),
      );
    },
    killAll() {
      shuttingDown = true;
      stopKilling();
      for (const slot of slots) {
        slot.expectedExit = true;
        if (alive(slot.child)) slot.child.kill("SIGKILL");
      }
    },
  };
}
