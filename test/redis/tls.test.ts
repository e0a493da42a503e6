/**
 * TLS to Redis with a private CA: `redis-server --tls-port` serving a certificate made here with the
 * project's crypto (a P-256 CA and a server certificate naming redis.test.internal only). A worker with
 * redis.tls { caFile, serverName } rotates over it; without the CA, or dialling a name the certificate
 * does not carry, it is refused at start-up with REDIS_TLS_REFUSED, NODE_TLS_REJECT_UNAUTHORIZED=0 or not.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createCa, createCsr, generateKeyPair, signServerCsr } from "../../src/crypto/index.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { RotateWatcher, spawnWorker, stopWorker, writeConfig } from "../queue/helpers.js";
import {
  aWatchedWorld,
  assertAllRotated,
  enqueueAll,
  onRedis,
  producerOn,
  type WatchedWorld,
} from "./helpers.js";

const DAY = 86_400_000;
const SERVER_NAME = "redis.test.internal";

/** A private CA and a Redis server certificate it signed, written as PEM files under `dir`. */
async function redisPki(dir: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const ca = await createCa({
    subject: "CN=certrotor test Redis CA,O=certrotor tests",
    keyType: "p256",
    validityMs: 30 * DAY,
  });
  const { keyPem } = await generateKeyPair("p256");
  const csrPem = await createCsr({ keyPem, subject: `CN=${SERVER_NAME}`, sans: [`dns:${SERVER_NAME}`] });
  const certPem = await signServerCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: 30 * DAY,
  });
  const files = {
    caFile: join(dir, "redis-ca.pem"),
    certFile: join(dir, "redis.crt"),
    keyFile: join(dir, "redis.key"),
  };
  await writeFile(files.caFile, ca.certPem);
  await writeFile(files.certFile, certPem);
  await writeFile(files.keyFile, keyPem, { mode: 0o600 });
  return files;
}

describe("TLS to Redis with a private CA", () => {
  let world: WatchedWorld;
  let redis: RedisServer;
  let caFile: string;

  before(async () => {
    world = await aWatchedWorld({ credentials: 2 });
    const pki = await redisPki(world.dir);
    caFile = pki.caFile;
    redis = await startRedis({ tls: pki });
  });
  after(async () => {
    await redis?.stop();
    await world?.stop();
  });

  it("rotates through a worker that trusts the CA and checks the server's name", async () => {
    assert.match(redis.url, /^rediss:\/\//);
    const config = onRedis(world.config, { url: redis.url, tls: { caFile, serverName: SERVER_NAME } });
    const watcher = await RotateWatcher.start(config.redis!, config.redis!.prefix);
    const { producer, close } = producerOn(config.redis!);
    const worker = spawnWorker(await writeConfig(world.dir, config));
    try {
      await worker.ready;
      await enqueueAll(producer, world);
      await watcher.within(world.credentials.length, 120_000);
      assert.equal(watcher.failed.size, 0, [...watcher.failed.values()].join("; "));
      await assertAllRotated(world);
      assert.equal(await stopWorker(worker), 0, worker.output());
    } finally {
      await stopWorker(worker, "SIGKILL");
      await close();
      await watcher.close();
    }
  });

  it("refuses at start-up a certificate it cannot verify, whatever NODE_TLS_REJECT_UNAUTHORIZED says", async () => {
    const cases = [
      {
        name: "no CA",
        tls: { serverName: SERVER_NAME },
        says: /REDIS_TLS_REFUSED: the TLS certificate of Redis at rediss:\/\/127\.0\.0\.1:\d+\/? was refused: .*certificate.*\(hint: set redis\.tls\.caFile/,
      },
      {
        name: "the CA, but a name the certificate does not carry",
        tls: { caFile },
        says: /REDIS_TLS_REFUSED: .* was refused: Hostname\/IP does not match certificate's altnames.*\(hint: set redis\.tls\.serverName/,
      },
    ];
    for (const [i, { name, tls, says }] of cases.entries()) {
      const config = onRedis(world.config, { url: redis.url, tls });
      const worker = spawnWorker(await writeConfig(world.dir, config, `untrusted-${i}.json`), [], {
        NODE_TLS_REJECT_UNAUTHORIZED: "0",
      });
      const [code] = (await once(worker.child, "exit")) as [number | null];
      assert.equal(code, 64, `${name}: ${worker.output()}`);
      assert.match(worker.output(), says, name);
      assert.equal(
        worker.output().match(/^certrotor: /gm)?.length,
        1,
        `${name}, one line: ${worker.output()}`,
      );
    }
  });
});
