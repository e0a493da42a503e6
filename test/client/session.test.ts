/**
 * The loop closed (issue 18): a consumer process on certrotor/client calls the sandbox bank's protected
 * endpoint in a loop while a real worker (its own process, a real Redis) rotates the credential. No call
 * fails; the consumer reports `rotated`; its tokens after it are bound to the new certificate; the bank
 * sees the old certificate no more once the consumer said so, and the worker's retire (idleBeforeRetire
 * short) unbinds it without raising CONSUMERS_ON_OLD_CERT.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { aWorld } from "../fixtures/world.js";
import { startRedis } from "../harness/redis.js";
import {
  exitOf,
  pollUntil,
  queueConfig,
  runCli,
  spawnProcess,
  spawnWorker,
  stopWorker,
  type WorkerProcess,
  writeConfig,
} from "../queue/helpers.js";

const CHILD = fileURLToPath(new URL("./consumer-child.mjs", import.meta.url));
const RECORD_MODULES = fileURLToPath(new URL("./record-modules.mjs", import.meta.url));
/** On the run's compiled build without tsx when npm test built one (see consumer-child.mjs), else the sources. */
const LOADER = ["--import", RECORD_MODULES, ...(process.env.CERTROTOR_TEST_CLI ? [] : ["--import", "tsx"])];
/** The worker retires the old certificate once the bank saw it unused this long. */
const IDLE_MS = 1_500;

type Line =
  | { ready: string }
  | { call: number; fingerprint: string; cnf: string; status: number }
  | { call: number; failed: string; message: string }
  | { rotated: { oldFingerprint: string; newFingerprint: string; version: string }; afterCall: number }
  | { error: string; message: string }
  | { closed: true };

const thumbprint = (hex: string): string => Buffer.from(hex, "hex").toString("base64url");

/** The consumer's JSON lines as they arrive; `onLine` runs synchronously as each is parsed. */
function linesOf(proc: WorkerProcess, onLine: (line: Line) => void): Line[] {
  const lines: Line[] = [];
  let buffered = "";
  proc.child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      const text = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text) as Line;
      lines.push(line);
      onLine(line);
    }
  });
  return lines;
}

describe("a consumer on certrotor/client", () => {
  for (const store of ["file", "vault"] as const) {
    it(`follows a worker's rotation in the ${store} store: no call fails, tokens move to the new certificate, the old one goes idle and is retired`, async () => {
      const redis = await startRedis();
      const world = await aWorld({ store, issuer: "local-ca", renewal: { idleBeforeRetire: IDLE_MS } });
      let consumer: WorkerProcess | undefined;
      let worker: WorkerProcess | undefined;
      try {
        const config = {
          ...queueConfig(world.config, redis.url),
          // no scan (the rotation is asked for); the retire sweep looks every second, so the old
          // certificate is unbound soon after the bank saw it idle for idleBeforeRetire
          schedules: { ...world.config.schedules, scan: "0 0 0 1 1 *", retire: "* * * * * *" },
        };
        const configPath = await writeConfig(world.dir, config);
        const old = world.credentials[0]!;
        const optionsFile = join(world.dir, "consumer.json");
        await writeFile(
          optionsFile,
          JSON.stringify({
            store: world.config.stores.main,
            credential: { path: "certrotor/cred-0" },
            everyMs: 200,
            bankUrl: world.sandbox.url,
            caFile: world.config.banks.sandbox!.caFile,
            accountId: "acc-1",
            freshTokenEvery: 4,
          }),
        );
        /** How many bank requests the sandbox had logged when the consumer said it moved. */
        let logsAtRotated = -1;
        const moduleLog = join(world.dir, "consumer-modules.txt");
        consumer = spawnProcess([...LOADER, CHILD, optionsFile], '"ready"', {
          CERTROTOR_TEST_MODULE_LOG: moduleLog,
        });
        const lines = linesOf(consumer, (line) => {
          if ("rotated" in line) logsAtRotated = world.sandbox.logs.length;
        });
        const calls = () => lines.filter((line) => "call" in line);
        await consumer.ready;
        await pollUntil(async () => (calls().length >= 3 ? true : undefined), 15_000, "first calls");

        worker = spawnWorker(configPath);
        await worker.ready;
        const rotate = await runCli(["rotate", "cred-0", "--wait", "--config", configPath]);
        assert.equal(rotate.code, 0, rotate.stdout + rotate.stderr);
        await pollUntil(
          async () => (logsAtRotated >= 0 ? true : undefined),
          15_000,
          "the consumer's rotated",
        );
        const bound = () =>
          world.sandbox.boundCertificates(old.clientId).map((b) => b.certificate.fingerprint);
        await pollUntil(
          async () => (bound().includes(old.fingerprint) ? undefined : true),
          30_000,
          "the worker's retire sweep unbinds the old certificate",
        );
        const callsAtRetire = calls().length;
        await pollUntil(
          async () => (calls().length >= callsAtRetire + 3 ? true : undefined),
          15_000,
          "more calls",
        );
        consumer.child.kill("SIGTERM");
        assert.equal((await exitOf(consumer, 15_000)).code, 0, consumer.output());

        const rotated = lines.find((line) => "rotated" in line);
        assert.ok(rotated && "rotated" in rotated);
        const { oldFingerprint, newFingerprint } = rotated.rotated;
        assert.equal(oldFingerprint, old.fingerprint);
        assert.deepEqual(bound(), [newFingerprint], "the bank holds the new certificate only");
        assert.deepEqual(
          lines.filter((line) => "failed" in line || "error" in line),
          [],
          "no call failed and the store never did",
        );
        for (const line of calls()) {
          assert.ok("status" in line);
          assert.equal(line.status, 200, `call ${line.call}`);
          if (line.call > rotated.afterCall)
            assert.equal(line.fingerprint, newFingerprint, `call ${line.call}`);
          // each call's token is bound to the certificate its agent presented
          assert.equal(line.cnf, thumbprint(line.fingerprint), `call ${line.call}`);
        }
        assert.ok(calls().some((line) => line.call > rotated.afterCall));
        const after = world.sandbox.logs.slice(logsAtRotated);
        assert.equal(
          after.filter((entry) => entry.certFingerprint === old.fingerprint).length,
          0,
          "the bank never sees the old certificate once the consumer moved",
        );
        assert.ok(
          after.some((entry) => entry.certFingerprint === newFingerprint && entry.endpoint === "token"),
        );
        assert.doesNotMatch(worker.output(), /CONSUMERS_ON_OLD_CERT/);
        assert.ok(!consumer.output().includes(old.clientSecret), "the consumer's output carries no secret");
        // only what the store kind needs is loaded: a file-store consumer loads neither SDK
        const loaded = await readFile(moduleLog, "utf8");
        assert.equal(/node_modules\/node-vault\//.test(loaded), store === "vault", "node-vault loaded");
        assert.doesNotMatch(loaded, /node_modules\/@aws-sdk\//);
        assert.doesNotMatch(consumer.output(), /PRIVATE KEY|eyJ/);
      } finally {
        if (consumer) await stopWorker(consumer);
        if (worker) await stopWorker(worker);
        await world.stop();
        await redis.stop();
      }
    });
  }
});
