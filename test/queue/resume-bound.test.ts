/**
 * docs/worker.md states the bound within which a killed worker's rotations resume on
 * another worker: max(jobLockDuration + the stalled check's interval, rotationLease + the LOCKED retry's
 * longest wait), jobs/worker.ts `resumeBoundMs`. That a killed worker's job is resumed at all is shown by
 * test/queue/stalls.test.ts and the soak; here, that the stated figure is the one the code computes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resumeBoundMs } from "../../jobs/worker.js";

describe("the resume bound of a killed worker's rotations", () => {
  it("is max(jobLockDuration + stalled check, rotationLease + 5 s): 35 s with the defaults", () => {
    assert.equal(resumeBoundMs({ jobLockDuration: 30_000, rotationLease: 30_000 }), 35_000);
    assert.equal(resumeBoundMs({ jobLockDuration: 3_000, rotationLease: 4_000 }), 9_000);
    assert.ok(resumeBoundMs({ jobLockDuration: 120_000, rotationLease: 10_000 }) > 120_000);
  });
});
