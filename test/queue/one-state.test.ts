/**
 * One state for every entry point: a rotation a worker process ran is what `rotate --wait`, `status`,
 * `scan` and `retire-due` — each its own process, with the same config — see and act on. The rotation ends
 * retire-due (a grace period), so scan must know it from the shared journal (else the old cert still
 * bound is drift) and retire-due must find it there once the grace period passed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AuditEvent, RotationRecord } from "../../src/journal/types.js";
import type { ScanReport } from "../../src/rotation/scan.js";
import type { StatusReport } from "../../src/rotation/status.js";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import { exitOf, pollUntil, queueConfig, runCli, spawnWorker, writeConfig } from "./helpers.js";

/** Long enough for the worker to be stopped before its own retire job would run. */
const GRACE_MS = 6_000;

describe("one state for every entry point", () => {
  it("status --history, scan --json and retire-due, each its own process, see and finish a worker's rotation", async () => {
    const redis = await startRedis();
    const world = await aWorld({
      store: "file",
      issuer: "bank",
      renewal: { gracePeriod: GRACE_MS, idleBeforeRetire: 0 },
    });
    const config = {
      ...queueConfig(world.config, redis.url),
      schedules: { ...world.config.schedules, scan: "0 0 0 1 1 *", retire: "0 0 0 1 1 *" },
    };
    const configPath = await writeConfig(world.dir, config);
    const cli = (...args: string[]) => runCli([...args, "--config", configPath]);
    const worker = spawnWorker(configPath);
    const old = world.credentials[0]!;
    try {
      await worker.ready;
      const rotate = await cli("rotate", "cred-0", "--wait");
      assert.equal(rotate.code, 0, rotate.stdout + rotate.stderr);
      const rotationId = /queued rotation (rot_[0-9a-f]+) of cred-0/.exec(rotate.stdout)?.[1];
      assert.ok(rotationId, rotate.stdout);
      assert.match(rotate.stdout, new RegExp(`retire-due: rotation ${rotationId}, new certificate`));
      // the worker leaves: its delayed retire job stays queued, so only the retire-due command below acts
      worker.child.kill("SIGTERM");
      assert.equal((await exitOf(worker, 20_000)).code, 0, worker.output());

      const status = await cli("status", "cred-0", "--history", "--json");
      assert.equal(status.code, 0, status.stderr);
      const seen = (JSON.parse(status.stdout) as StatusReport).credentials[0]!;
      const record = seen.rotations[0] as RotationRecord;
      assert.equal(record.rotationId, rotationId);
      assert.equal(record.status, "retire-due");
      assert.equal(record.oldFingerprint, old.fingerprint);
      assert.equal(record.newFingerprint, seen.current?.fingerprint);
      assert.equal(seen.current?.rotationId, rotationId);
      assert.deepEqual(
        seen.slots?.map((s) => s.fingerprint).sort(),
        [old.fingerprint, record.newFingerprint].sort(),
      );
      const trail = (seen.history as AuditEvent[])
        .filter((e) => e.rotationId === rotationId)
        .map((e) => e.action);
      assert.deepEqual(trail.reverse(), [
        "issued",
        "staged",
        "bound",
        "verified",
        "promoted",
        "retire-scheduled",
      ]);
      const text = await cli("status", "cred-0", "--history");
      assert.match(text.stdout, new RegExp(`rotation   ${rotationId}  retire-due at retire`));
      assert.match(text.stdout, new RegExp(`audit      \\S+  promoted +by on-demand  ${rotationId}`));

      // the old certificate still bound is the retire-due rotation's, not drift
      const scan = await cli("scan", "--json");
      assert.equal(scan.code, 0, scan.stdout + scan.stderr);
      const entry = (JSON.parse(scan.stdout) as ScanReport).entries[0]!;
      assert.equal(entry.fingerprint, record.newFingerprint);
      assert.equal(entry.boundSlots, 2);
      assert.deepEqual(entry.drift, []);
      assert.equal(entry.decision, "ok");

      await pollUntil(
        async () => (Date.now() >= Date.parse(record.retireDueAt!) ? true : undefined),
        GRACE_MS + 10_000,
        `the grace period ends (${record.retireDueAt})`,
      );
      const retire = await cli("retire-due", "--json");
      assert.equal(retire.code, 0, retire.stdout + retire.stderr);
      const retired = JSON.parse(retire.stdout) as Array<{
        rotationId: string;
        outcome?: { status: string; record: RotationRecord };
      }>;
      assert.deepEqual(
        retired.map((r) => [r.rotationId, r.outcome?.status]),
        [[rotationId, "succeeded"]],
      );
      assert.deepEqual(
        world.sandbox.boundCertificates(old.clientId).map((b) => b.certificate.fingerprint),
        [record.newFingerprint],
      );

      const after = await cli("status", "cred-0", "--history", "--json");
      const final = (JSON.parse(after.stdout) as StatusReport).credentials[0]!;
      assert.equal(final.rotations[0]?.status, "succeeded");
      assert.equal(final.rotations.length, 1);
      assert.ok(
        final.history?.some(
          (e) =>
            e.action === "unbound" &&
            e.rotationId === rotationId &&
            e.details?.fingerprint === old.fingerprint,
        ),
      );
      const again = await cli("retire-due");
      assert.match(again.stdout, /nothing is due for retirement/);
    } finally {
      worker.child.kill("SIGKILL");
      await exitOf(worker, 10_000).catch(() => undefined);
      await world.stop();
      await redis.stop();
    }
  });
});
