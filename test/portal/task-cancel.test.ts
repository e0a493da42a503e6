/**
 * `certrotor task cancel` on the bind task of a parked rotation (rotate --inline, file state, a portal
 * bank): the next look stops the rotation with TASK_CANCELLED and rolls it back — the staged key dropped
 * (the certificate was never bound), the old material current — and `status` no longer lists the task.
 * While parked, `status` shows the open task.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime } from "../../src/runtime.js";
import type { HumanTask } from "../../src/tasks/types.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { runCli, writeConfig } from "../queue/helpers.js";

describe("cancelling the task a rotation waits on", () => {
  let world: TestWorld;
  let configPath: string;
  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", bank: "portal" });
    configPath = await writeConfig(world.dir, world.config);
  });
  after(() => world?.stop());

  it("rolls the rotation back at its next look, with nothing left staged", async () => {
    const parked = await runCli(["rotate", "cred-0", "--inline", "--config", configPath]);
    assert.equal(parked.code, 0, parked.stdout + parked.stderr);
    assert.match(parked.stdout, /awaiting registration: .*bind the new certificate/);
    const runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    let task: HumanTask;
    try {
      [task] = (await runtime.tasks.list({ status: "open" })) as [HumanTask];
      assert.equal(task.kind, "bind-certificate");
    } finally {
      await runtime.close();
    }
    const status = await runCli(["status", "cred-0", "--config", configPath]);
    assert.match(status.stdout, new RegExp(`task\\s+${task.id}\\s+bind-certificate open since`));

    const cancel = await runCli([
      "task",
      "cancel",
      task.id,
      "--by",
      "ana",
      "--reason",
      "portal down",
      "--config",
      configPath,
    ]);
    assert.equal(cancel.code, 0, cancel.stderr);
    const again = await runCli(["rotate", "cred-0", "--inline", "--config", configPath]);
    assert.equal(again.code, 2, again.stdout + again.stderr);
    assert.match(again.stdout, /TASK_CANCELLED/);

    const check = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    try {
      const credential = await check.credential("cred-0");
      const store = check.stores.get("main")!;
      assert.equal(await store.readPending(credential.ref), null, "the staged key is dropped");
      assert.equal(
        (await store.readCurrent(credential.ref)).material.fingerprint,
        world.credentials[0]!.fingerprint,
      );
      const record = await check.journal.latest("cred-0");
      assert.equal(record?.status, "rolled-back");
      assert.equal(record?.errorCode, "TASK_CANCELLED");
      const closed = await check.tasks.get(task.id);
      assert.equal(closed?.status, "cancelled");
      assert.equal(closed?.closedBy, "operator:ana");
      assert.deepEqual(await check.tasks.list({ status: "open" }), []);
    } finally {
      await check.close();
    }
  });
});
