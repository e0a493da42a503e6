/**
 * The soak's verdict (bench/soak/report.ts): it passes only when the run converged, every credential was
 * rotated with no violation, the bank saw none, no worker exited on its own, every worker's graceful stop
 * at the end exited 0, and no certificate was issued twice for one rotation, no audit event recorded
 * twice, no record changed after it finished.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildReport, type RunFacts } from "../../bench/soak/report.js";
import type { CredentialVerdict } from "../../bench/soak/verify.js";

const CLEAN = { slot: 0, generation: 0, code: 0, signal: null, upWhenStopped: true, stopMs: 40 };

function facts(overrides: Partial<RunFacts> = {}, chaos: Partial<RunFacts["chaos"]> = {}): RunFacts {
  const server = { requests: 10, errors: 1, drops: 0, byRoute: { "GET /x": 10 } };
  return {
    options: { credentials: 2 },
    converged: true,
    timings: { setupMs: 1, runMs: 2_000, verifyMs: 1, totalMs: 2_002 },
    chaos: {
      kills: 3,
      pauses: 2,
      lockLostLogged: 1,
      workerStarts: 6,
      skippedKills: 0,
      unexpectedExits: [],
      redisRestarts: 1,
      redisDowntimeMs: 200,
      finalExits: [CLEAN, CLEAN, CLEAN],
      ...chaos,
    },
    queue: { completed: 2, succeeded: 2, notDue: 0, failed: 0, failedReasons: {}, stalled: 1, delayed: 0 },
    faults: { bank: server, vault: server, aws: server },
    bankViolations: [],
    unattributedSigns: [],
    ...overrides,
  };
}

const verdict = (
  id: string,
  violations: string[] = [],
  integrity: Partial<CredentialVerdict["integrity"]> = {},
): CredentialVerdict => {
  const found = { issuedTwice: [], duplicateAudit: [], changedAfterFinish: [], ...integrity };
  return {
    id,
    store: "files",
    rotated: violations.length === 0,
    violations: [...violations, ...found.issuedTwice, ...found.duplicateAudit, ...found.changedAfterFinish],
    integrity: found,
    signs: 1,
    rotations: 1,
    records: [],
  };
};

const noAlerts = { total: 0, byKind: {}, samples: [] };
const both = [verdict("cred-0"), verdict("cred-1")];

describe("the soak's verdict", () => {
  it("passes a converged run with every credential rotated and clean", () => {
    const report = buildReport(facts(), both, noAlerts);
    assert.equal(report.result, "passed");
    assert.deepEqual(report.credentials, {
      total: 2,
      rotated: 2,
      notRotated: 0,
      byStore: { files: { total: 2, rotated: 2 } },
    });
    assert.equal(report.rotations.promoted, 2);
    assert.equal(report.rotations.perSecond, 1);
    assert.deepEqual(report.integrity, {
      issuedTwice: 0,
      duplicateAuditEvents: 0,
      changedAfterFinish: 0,
      unattributedSigns: [],
    });
    assert.equal(report.chaos.pauses, 2);
  });

  it("fails on each finding a worker woken past its lease would cause, and counts it", () => {
    const cases: Array<
      [string, ReturnType<typeof buildReport>, keyof ReturnType<typeof buildReport>["integrity"]]
    > = [
      [
        "a certificate issued twice for one rotation",
        buildReport(facts(), [verdict("cred-0"), verdict("cred-1", [], { issuedTwice: ["x"] })], noAlerts),
        "issuedTwice",
      ],
      [
        "an audit event recorded twice",
        buildReport(facts(), [verdict("cred-0"), verdict("cred-1", [], { duplicateAudit: ["x"] })], noAlerts),
        "duplicateAuditEvents",
      ],
      [
        "a record changed after it finished",
        buildReport(
          facts(),
          [verdict("cred-0"), verdict("cred-1", [], { changedAfterFinish: ["x"] })],
          noAlerts,
        ),
        "changedAfterFinish",
      ],
      [
        "a certificate signed for a rotation no journal knows",
        buildReport(
          facts({ unattributedSigns: ["bank: signed 1 certificate(s) for rot_x"] }),
          both,
          noAlerts,
        ),
        "unattributedSigns",
      ],
    ];
    for (const [what, report, figure] of cases) {
      assert.equal(report.result, "failed", what);
      const value = report.integrity[figure];
      assert.equal(Array.isArray(value) ? value.length : value, 1, what);
    }
  });

  it("fails on each thing that is wrong, on its own", () => {
    const exit = { slot: 1, generation: 0, code: 1, signal: null, at: "t", tail: "boom" };
    const cases: Array<[string, ReturnType<typeof buildReport>]> = [
      ["no convergence", buildReport(facts({ converged: false }), both, noAlerts)],
      [
        "a credential not rotated",
        buildReport(facts(), [verdict("cred-0"), verdict("cred-1", ["x"])], noAlerts),
      ],
      [
        "a violation the bank saw",
        buildReport(facts({ bankViolations: [{ clientId: "c", violation: "2 (bank)" }] }), both, noAlerts),
      ],
      [
        "a worker that exited on its own",
        buildReport(facts({}, { unexpectedExits: [exit] }), both, noAlerts),
      ],
      [
        "a worker whose graceful stop did not exit 0",
        buildReport(
          facts({}, { finalExits: [CLEAN, { ...CLEAN, code: 70, tail: "shutdown failed" }, CLEAN] }),
          both,
          noAlerts,
        ),
      ],
      [
        "a worker killed because its graceful stop overran",
        buildReport(
          facts({}, { finalExits: [CLEAN, CLEAN, { ...CLEAN, code: null, signal: "SIGKILL" }] }),
          both,
          noAlerts,
        ),
      ],
    ];
    for (const [what, report] of cases) assert.equal(report.result, "failed", what);
  });
});
