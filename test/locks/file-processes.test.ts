import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isCertrotorError } from "../../src/errors.js";
import { createFileLockManager } from "../../src/locks/file.js";

const RACER = new URL("./fixtures/lock-racer.ts", import.meta.url).pathname;

interface Reply {
  type: string;
  won?: boolean;
  token?: number;
  code?: string;
}

interface Racer {
  child: ChildProcess;
  ask(message: object): Promise<Reply>;
}

async function startRacer(dir: string, name: string): Promise<Racer> {
  const child = fork(RACER, [dir, name], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [ready] = (await once(child, "message")) as [Reply];
  assert.equal(ready.type, "ready");
  return {
    child,
    async ask(message) {
      const reply = once(child, "message");
      child.send(message);
      return ((await reply) as [Reply])[0];
    },
  };
}

describe("file locks across processes", () => {
  let dir: string;
  let racers: Racer[];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "certrotor-lockrace-"));
    racers = await Promise.all([startRacer(dir, "racer-a"), startRacer(dir, "racer-b")]);
  });
  after(async () => {
    for (const racer of racers) if (racer.child.connected) racer.child.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it("lets exactly one of two processes racing for a lock win, round after round, with rising tokens", async () => {
    let lastToken = 0;
    for (let round = 0; round < 25; round++) {
      const key = "rotation:shared"; // same key every round: tokens must keep rising across holders
      const replies = await Promise.all(racers.map((r) => r.ask({ type: "go", key, ttlMs: 60_000 })));
      const winners = replies.filter((r) => r.won);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(replies)}`);
      assert.equal(replies.find((r) => !r.won)?.code, "LOCKED");
      assert.ok(winners[0]!.token! > lastToken);
      lastToken = winners[0]!.token!;
      await racers[replies.indexOf(winners[0]!)]!.ask({ type: "release", key });
    }
  });

  it("takes over at once a lock whose holder process died, with a higher token", async () => {
    const doomed = await startRacer(dir, "doomed");
    const key = "rotation:orphaned";
    const taken = await doomed.ask({ type: "go", key, ttlMs: 3_600_000 });
    assert.equal(taken.won, true);
    const manager = createFileLockManager(dir);
    await assert.rejects(manager.acquire(key, { ttlMs: 60_000, owner: "parent" }), (error) =>
      isCertrotorError(error, "LOCKED"),
    );
    const exited = once(doomed.child, "exit");
    doomed.child.kill("SIGKILL");
    await exited;
    const lease = await manager.acquire(key, { ttlMs: 60_000, owner: "parent" });
    assert.ok(lease.token > taken.token!);
    await lease.release();
  });
});
