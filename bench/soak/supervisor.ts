/**
 * The soak's worker processes: N `certrotor worker` CLIs (from source), one log file per process, and
 * every few seconds one of them (round robin) hit by the chaos: SIGKILLed and restarted at once, or — every
 * `pauseEvery`th turn — SIGSTOPped for `pauseMs` (longer than the rotation lease and the job lock, so other
 * workers take its rotations over) and then SIGCONTed, to wake up as a stale holder that must act on
 * nothing. It notes every exit the supervisor did not cause (a worker crashing on its own is a finding)
 * and counts the lost-lease lines the workers log (what the woken workers found).
 *
 * Only a worker that is up (printed that it listens) and has been for `minUptimeMs` is hit: killing one
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
/** What a worker logs when it finds its rotation lease lost (src/rotation/saga.ts). */
const LOCK_LOST_LINE = "lost the rotation lease";

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
  /** Set while it is SIGSTOPped: the SIGCONT to come. */
  paused?: NodeJS.Timeout;
}

/** How the chaos hits: every `pauseEvery`th turn (0: never) a pause of `pauseMs` instead of a kill. */
export interface ChaosOptions {
  everyMs: number;
  pauseEvery: number;
  pauseMs: number;
}

export interface Supervisor {
  readonly kills: number;
  /** SIGSTOP … SIGCONT pauses. */
  readonly pauses: number;
  /** Lost-lease lines logged by the workers (a worker woken from a pause finding its rotation taken over). */
  readonly lockLostLogged: number;
  readonly starts: number;
  /** Chaos turns skipped: the worker due was starting, paused, or up less than `minUptimeMs`. */
  readonly skippedKills: number;
  readonly unexpectedExits: readonly WorkerExit[];
  /** Resolves once every worker printed that it listens; throws after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Hits one worker every `everyMs` (round robin) until `stopKilling()`: a kill (and restart) or a pause. */
  startKilling(chaos: ChaosOptions): void;
  stopKilling(): void;
  /** SIGCONT any paused worker, SIGTERM every worker (graceful) and wait; SIGKILL after `boundMs`. */
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
  const stats = { kills: 0, pauses: 0, lockLostLogged: 0, starts: 0, skippedKills: 0 };
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
    let partial = "";
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      slot.tail = (slot.tail + chunk.toString()).slice(-2_000);
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      stats.lockLostLogged += lines.filter((line) => line.includes(LOCK_LOST_LINE)).length;
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

  const resume = (slot: Slot): void => {
    if (!slot.paused) return;
    clearTimeout(slot.paused);
    slot.paused = undefined;
    if (alive(slot.child)) slot.child.kill("SIGCONT");
  };

  const pause = (slot: Slot, ms: number): void => {
    slot.child.kill("SIGSTOP");
    stats.pauses++;
    slot.paused = setTimeout(() => resume(slot), ms);
  };

  const chaosTurn = async (chaos: ChaosOptions): Promise<void> => {
    const n = turn++;
    const slot = slots[n % count]!;
    if (!slot.up || !alive(slot.child) || slot.paused || Date.now() - slot.upAt < minUptimeMs) {
      stats.skippedKills++;
      return;
    }
    // the pause runs on while the next turns hit other workers
    if (chaos.pauseEvery > 0 && n % chaos.pauseEvery === chaos.pauseEvery - 1)
      return pause(slot, chaos.pauseMs);
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
    get pauses() {
      return stats.pauses;
    },
    get lockLostLogged() {
      return stats.lockLostLogged;
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
    startKilling(chaos) {
      timer = setInterval(() => {
        killing = killing.then(() => chaosTurn(chaos));
      }, chaos.everyMs);
    },
    stopKilling,
    async stopAll(boundMs) {
      stopKilling();
      await killing;
      shuttingDown = true;
      for (const slot of slots) resume(slot);
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
        clearTimeout(slot.paused);
        if (alive(slot.child)) slot.child.kill("SIGKILL");
      }
    },
  };
}
