import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createFileJournal } from "../../src/journal/file.js";

const WRITER = new URL("./fixtures/journal-writer.ts", import.meta.url).pathname;

describe("file journal across processes", () => {
  it("keeps every audit line and both writers' last updates when two processes write at once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "certrotor-journal-procs-"));
    const journal = createFileJournal(dir);
    const at = new Date().toISOString();
    const record = {
      rotationId: "rot-shared",
      credentialId: "acme",
      trigger: "inline",
      startedAt: at,
      updatedAt: at,
      step: "verify",
      stepStartedAt: at,
      status: "running",
      attempts: 1,
    } as const;
    await journal.begin(record);
    const children = ["a", "b"].map((name) =>
      fork(WRITER, [dir, name, record.rotationId, record.credentialId], {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    try {
      await Promise.all(children.map((child) => once(child, "message")));
      const n = 100;
      const done = children.map((child) => once(child, "message"));
      for (const child of children) child.send({ type: "go", n });
      await Promise.all(done);
      const trail = await journal.auditTrail(record.credentialId, 10 * n);
      assert.equal(trail.length, 2 * n, "no audit line lost or torn");
      for (const writer of ["a", "b"]) {
        const seen = trail.filter((e) => e.details?.writer === writer).map((e) => e.details?.i);
        assert.deepEqual(
          seen,
          Array.from({ length: n }, (_, i) => n - 1 - i),
          `writer ${writer} in order`,
        );
      }
      const final = await journal.get(record.rotationId);
      assert.equal(final?.hint, `a-${n - 1}`);
      assert.equal(final?.errorCode, `B_${n - 1}`);
    } finally {
      for (const child of children) if (child.connected) child.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
