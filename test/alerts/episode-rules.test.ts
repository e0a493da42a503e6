import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMemoryEpisodes } from "../../src/alerts/episodes.js";
import { raiseAlert, resolveAlerts } from "../../src/alerts/raise.js";
import { scanConditions } from "../../src/alerts/scan-alerts.js";
import { CertrotorError } from "../../src/errors.js";
import type { RotationRecord } from "../../src/journal/types.js";
import type { NotifyJobData } from "../../src/queue/payloads.js";
import type { ScanEntry } from "../../src/rotation/scan.js";
import { days, hours } from "../fixtures/pki.js";

const now = new Date("2031-03-01T12:00:00.000Z");
const at = (ms: number): string => new Date(now.getTime() + ms).toISOString();
const alerts = { criticalWindow: days(7), overdueAfter: hours(6) };

function entry(patch: Partial<ScanEntry>): ScanEntry {
  return {
    credentialId: "cred-x",
    clientId: "cli_x",
    store: "main",
    path: "certrotor/cred-x",
    subject: "CN=x",
    fingerprint: "cd".repeat(32),
    notAfter: at(days(60)),
    boundSlots: 1,
    decision: "ok",
    dueAt: at(days(30)),
    reason: "NotDue",
    message: "",
    drift: [],
    ...patch,
  };
}

const kinds = (e: ScanEntry, running?: RotationRecord) =>
  scanConditions(e, now, alerts, running)
    .found.map((f) => f.kind)
    .sort();

describe("what a scan alerts on", () => {
  it("finds nothing for a healthy credential, and judges every kind for it", () => {
    const result = scanConditions(entry({}), now, alerts);
    assert.deepEqual(result.found, []);
    assert.deepEqual([...result.evaluated].sort(), [
      "critical-window",
      "drift",
      "expired",
      "rotation-overdue",
      "rotation-stuck",
    ]);
  });

  it("tells expired from the critical window, and overdue from merely due", () => {
    assert.deepEqual(kinds(entry({ notAfter: at(-hours(1)), dueAt: at(-days(20)) })), [
      "expired",
      "rotation-overdue",
    ]);
    assert.deepEqual(kinds(entry({ notAfter: at(days(6)), dueAt: at(-hours(1)) })), ["critical-window"]);
    assert.deepEqual(kinds(entry({ notAfter: at(days(8)), dueAt: at(-hours(7)) })), ["rotation-overdue"]);
  });

  it("reports a stuck rotation with its rotation id and step, and orphaned or unregistered certs as drift", () => {
    const running = { rotationId: "rot_stuck", step: "register" } as RotationRecord;
    const stuck = entry({
      drift: [
        { kind: "stuck", message: 'rotation rot_stuck has been in step "register" for 45 min' },
        {
          kind: "unregistered",
          message: "the current certificate is not bound",
          fingerprint: "cd".repeat(32),
        },
        { kind: "leftover-pending", message: "pending material" },
      ],
    });
    const found = scanConditions(stuck, now, alerts, running).found;
    assert.deepEqual(found.map((f) => f.kind).sort(), ["drift", "rotation-stuck"]);
    const facts = found.find((f) => f.kind === "rotation-stuck")!.facts;
    assert.equal(facts.rotationId, "rot_stuck");
    assert.equal(facts.step, "register");
    assert.match(found.find((f) => f.kind === "drift")!.facts.message, /^unregistered:/);
  });

  it("judges only what it could see: unreadable material leaves all but stuck, a store-only scan leaves drift", () => {
    const unreadable = scanConditions(
      entry({ notAfter: undefined, fingerprint: undefined, dueAt: undefined }),
      now,
      alerts,
    );
    assert.deepEqual([...unreadable.evaluated], ["rotation-stuck"]);
    const storeOnly = scanConditions(entry({ boundSlots: undefined }), now, alerts);
    assert.equal(storeOnly.evaluated.has("drift"), false);
  });
});

describe("raising and resolving episodes", () => {
  const sink = () => {
    const jobs: NotifyJobData[] = [];
    const enqueueNotify = async (data: NotifyJobData): Promise<boolean> => {
      jobs.push(data);
      return true;
    };
    return { jobs, enqueueNotify };
  };

  it("queues one alert per episode and one resolve with the same dedup key when it ends", async () => {
    const queue = sink();
    const deps = { episodes: createMemoryEpisodes(), sink: queue, now: () => now };
    const facts = { errorCode: "IP_NOT_ALLOWED", message: "refused" };
    assert.equal(await raiseAlert(deps, "cred-x", "rotation-failed", facts), true);
    assert.equal(await raiseAlert(deps, "cred-x", "rotation-failed", facts), false);
    const ended = await resolveAlerts(deps, "cred-x", "rotated");
    assert.deepEqual(
      ended.map((e) => e.kind),
      ["rotation-failed"],
    );
    assert.deepEqual(
      queue.jobs.map((j) => [j.kind, j.episode]),
      [
        ["rotation-failed", "certrotor/cred-x/rotation-failed"],
        ["resolved", "certrotor/cred-x/rotation-failed"],
      ],
    );
    assert.deepEqual(await resolveAlerts(deps, "cred-x", "rotated"), [], "nothing left to resolve");
  });

  it("closes the episode again when its alert cannot be queued, so the next failure alerts", async () => {
    const episodes = createMemoryEpisodes();
    const down = {
      enqueueNotify: async (): Promise<boolean> => {
        throw new CertrotorError("REDIS_UNAVAILABLE", "redis: add failed");
      },
    };
    await assert.rejects(
      raiseAlert({ episodes, sink: down, now: () => now }, "cred-x", "expired", { message: "expired" }),
      (error: unknown) => error instanceof CertrotorError && error.code === "REDIS_UNAVAILABLE",
    );
    assert.deepEqual(await episodes.list("cred-x"), []);
    assert.equal(
      await raiseAlert({ episodes, sink: sink(), now: () => now }, "cred-x", "expired", { message: "x" }),
      true,
    );
  });
});
