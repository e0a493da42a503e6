/**
 * Crash safety of the bank paths beside the slot API's (crash.test.ts): manual registration (the rotation
 * parks on a bind task, a person binds in the portal, a later attempt confirms with a token call, retire
 * waits on an unbind task), the single-slot cut-over (unbind old, bind new, verify, promote) and a bank
 * that trusts the CA (register and retire skipped). A child process is SIGKILLed at each hook point of
 * the path from stage's effect on (plan, generate, issue and stage run the same code on every path and
 * are killed in crash.test.ts); then this process resumes the same rotation, the test playing the person
 * whenever the rotation waits on one, until it converges. One world per path, one credential per point.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/observability/logger.js";
import type { RotationDeps } from "../../src/rotation/context.js";
import type { ResolvedCredential } from "../../src/rotation/credentials.js";
import { type RunResult, runRotation } from "../../src/rotation/run.js";
import { newRotationId } from "../../src/rotation/saga.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { killAt } from "./crash-kill.js";

type Bank = "portal" | "single-slot" | "trust-ca";

interface CrashCase {
  /** Attempts run to their end (the person acting after each) before the one that is killed. */
  runsBefore: number;
  point: string;
  /**
   * The bank refuses the new certificate: `after-kill`, so the resumed rotation must roll back;
   * `until-kill`, so the killed one was rolling back and the resumed one, accepted again, succeeds.
   */
  refuseNew?: "after-kill" | "until-kill";
  /** The person binds the certificate of the open bind task while the killed process is down. */
  bindWhileDown?: boolean;
}

const at = (runsBefore: number, points: string[]): CrashCase[] =>
  points.map((point) => ({ runsBefore, point }));

const PATHS: Array<{ bank: Bank; title: string; cases: CrashCase[] }> = [
  {
    bank: "portal",
    title: "manual registration (parked on a bind task, retired through an unbind task)",
    cases: [
      // the first attempt: stage, open the bind task, look (not bound yet), park
      ...at(0, [
        "stage:effect",
        "register:start",
        "register:task-opened",
        "register:effect",
        "register:parked",
      ]),
      { runsBefore: 0, point: "register:task-opened", bindWhileDown: true },
      // the person bound the certificate: the next attempt confirms it, verifies, promotes, opens the unbind task
      ...at(1, [
        "plan:start",
        "register:start",
        "register:effect",
        "verify:start",
        "verify:effect",
        "promote:start",
        "promote:effect",
        "retire:start",
        "retire:task-opened",
        "retire:effect",
      ]),
      // the person unbound the old certificate: the last attempt confirms it and finishes
      ...at(2, ["retire:start", "retire:effect", "done:start"]),
    ],
  },
  {
    bank: "single-slot",
    title: "single-slot cut-over (unbind old, bind new, verify, promote)",
    cases: [
      ...at(0, [
        "stage:effect",
        "register:start",
        "register:unbound",
        "register:effect",
        "verify:start",
        "verify:effect",
        "promote:start",
        "promote:effect",
        "retire:start",
        "retire:effect",
      ]),
      { runsBefore: 0, point: "register:unbound", refuseNew: "after-kill" },
      { runsBefore: 0, point: "rollback:rebound", refuseNew: "until-kill" },
    ],
  },
  {
    bank: "trust-ca",
    title: "registration none (the bank trusts the CA: nothing bound or unbound)",
    cases: at(0, ["register:start", "register:effect", "retire:start", "retire:effect"]),
  },
];

for (const path of PATHS) {
  describe(`crash safety of the ${path.title}`, { concurrency: 3 }, () => {
    let world: TestWorld;
    let runtime: Runtime;
    let configPath: string;
    before(async () => {
      world = await aWorld({
        store: "file",
        issuer: "local-ca",
        bank: path.bank,
        credentials: path.cases.length,
      });
      configPath = join(world.dir, "config.json");
      await writeFile(configPath, JSON.stringify(world.config));
      runtime = await createRuntime(world.config, { logger: createLogger({ level: "silent" }) });
    });
    after(async () => {
      await runtime?.close();
      await world?.stop();
    });

    path.cases.forEach((crash, index) => {
      const after = crash.runsBefore === 0 ? "" : ` after ${crash.runsBefore} attempt(s)`;
      const rollback =
        crash.refuseNew === "after-kill"
          ? ", the bank then refusing the new certificate (rolled back)"
          : crash.refuseNew === "until-kill"
            ? " of a refused cut-over, the bank then accepting the new certificate"
            : "";
      const down = crash.bindWhileDown ? ", the person binding while it is down" : "";
      it(`converges after a kill at ${crash.point}${after}${rollback}${down}`, async () => {
        const { id, clientId, fingerprint: before } = world.credentials[index]!;
        const credential = await runtime.credential(id);
        const deps = runtime.depsFor(credential);
        const rotationId = newRotationId();
        const bound = () => world.sandbox.boundCertificates(clientId).map((b) => b.certificate.fingerprint);
        const check = {
          store: deps.store,
          bank: deps.bank,
          ref: credential.ref,
          clientId,
          // a bank trusting the CA binds nothing; elsewhere the sandbox's own view of the bindings
          ...(path.bank === "trust-ca" ? {} : { bound }),
        };
        const run = () => runRotation(deps, credential, { trigger: "inline", force: true, rotationId });
        // the person at the bank's portal does what the task the rotation waits on asks
        const person = (result: RunResult) => {
          if (result.status === "awaiting-registration")
            world.sandbox.bindCertificate(clientId, result.task.certPem ?? "");
          if (result.status === "retire-due" && result.task)
            world.sandbox.unbindCertificate(clientId, result.task.fingerprint ?? "");
        };
        for (let i = 0; i < crash.runsBefore; i++) person(await run());

        const refuse = () => world.sandbox.setAllowedIps(clientId, ["10.9.9.9/32"]);
        const accept = () => world.sandbox.setAllowedIps(clientId, ["127.0.0.0/8", "::1"]);
        if (crash.refuseNew === "until-kill") refuse();
        const signal = await killAt(configPath, id, rotationId, crash.point);
        assert.equal(signal, "SIGKILL", `the child reached ${crash.point}`);
        if (crash.refuseNew === "until-kill") accept();
        if (crash.bindWhileDown) {
          const [task] = await runtime.tasks.list({ rotationId, status: "open" });
          assert.equal(task?.kind, "bind-certificate", "the bind task was opened before the kill");
          world.sandbox.bindCertificate(clientId, task.certPem ?? "");
        }
        await assertInvariantsAfterKill(deps, credential, check, rotationId, before, bound);

        if (crash.refuseNew === "after-kill") refuse();
        let result = await run();
        for (let i = 0; i < 4 && result.status !== "succeeded" && result.status !== "failed"; i++) {
          person(result);
          result = await run();
        }
        accept();
        assert.equal(result.rotationId, rotationId, "the reruns resumed the interrupted rotation");
        const current = await deps.store.readCurrent(credential.ref);
        assert.equal(await deps.store.readPending(credential.ref), null);
        if (crash.refuseNew === "after-kill") {
          assert.equal(result.status, "failed");
          assert.equal((await runtime.journal.get(rotationId))?.status, "rolled-back");
          assert.equal(current.material.fingerprint, before, "the old material stays current");
          assert.deepEqual(bound(), [before], "the old certificate is bound again");
        } else {
          assert.equal(result.status, "succeeded", `rerun after ${crash.point}: ${JSON.stringify(result)}`);
          assert.notEqual(current.material.fingerprint, before);
          assert.equal(current.material.rotationId, rotationId);
          assert.deepEqual(
            bound(),
            path.bank === "trust-ca" ? [] : [current.material.fingerprint],
            "only the new certificate is bound",
          );
          if (path.bank === "single-slot") {
            const record = await runtime.journal.get(rotationId);
            assert.ok(record?.outageStartedAt && record.outageEndedAt, "the cut-over's outage is recorded");
            assert.ok(record.outageEndedAt >= record.outageStartedAt, "the last outage's end is recorded");
            const cutOvers = (await runtime.journal.auditTrail(id)).filter(
              (e) => e.action === "cut-over" && e.details?.fingerprint === current.material.fingerprint,
            );
            assert.equal(cutOvers.length, 1, "the outage to the new certificate ended once");
          }
        }
        assert.deepEqual(await invariantViolations(check), [], `after the rerun from ${crash.point}`);

        const tasks = await runtime.tasks.list({ rotationId });
        const kinds = tasks.map((t) => t.kind).sort();
        assert.deepEqual(
          kinds,
          path.bank === "portal" ? ["bind-certificate", "unbind-certificate"] : [],
          "one task per rotation and kind",
        );
        assert.deepEqual(
          tasks.filter((t) => t.status !== "done").map((t) => t.id),
          [],
          "no task left open",
        );
      });
    });
  });
}

/**
 * Right after the kill: invariants 1–3 hold, except inside a single-slot cut-over's recorded outage (from
 * the old certificate's unbind until the new one verified), where only invariant 1 is relaxed and at most
 * one certificate is bound. Before promote the old certificate stays bound (invariant 4), outage aside.
 */
async function assertInvariantsAfterKill(
  deps: RotationDeps,
  credential: ResolvedCredential,
  check: Parameters<typeof invariantViolations>[0],
  rotationId: string,
  before: string,
  bound: () => string[],
): Promise<void> {
  const record = await deps.journal.get(rotationId);
  const inOutage = Boolean(record?.outageStartedAt && !record.outageEndedAt);
  const violations = await invariantViolations(check);
  if (inOutage) {
    assert.deepEqual(
      violations.filter((v) => !v.startsWith("1:")),
      [],
      "inside the outage only invariant 1 is relaxed",
    );
    assert.ok(bound().length <= 1, "a single-slot bank has at most one certificate bound");
    return;
  }
  assert.deepEqual(violations, [], "after the kill");
  const current = await deps.store.readCurrent(credential.ref);
  if (current.material.fingerprint === before && check.bound !== undefined)
    assert.ok(bound().includes(before), "before promote the old cert stays bound (invariant 4)");
}
