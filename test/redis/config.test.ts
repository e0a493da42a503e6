import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/load.js";
import { hashTagOf } from "../../src/config/schema.js";
import { isCertrotorError } from "../../src/errors.js";
import { describeRedis } from "../../src/redis/connection.js";
import { clusterOptions, redisOptions, tlsOptions } from "../../src/redis/options.js";
import { certrotor } from "../fixtures/cli.js";

function parse(redis: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(`redis:\n${redis}`, "certrotor.yaml", env);
}

function refused(redis: string, ...fragments: string[]): string {
  try {
    parse(redis);
  } catch (error) {
    assert.ok(isCertrotorError(error, "CONFIG_INVALID"), String(error));
    for (const fragment of fragments)
      assert.ok(error.message.includes(fragment), `${error.message} ∌ ${fragment}`);
    return error.message;
  }
  assert.fail(`expected redis:\n${redis} to be refused`);
}

describe("the redis: section", () => {
  it("takes a standalone url, a cluster's nodes or a Sentinel group, with a user, a password and TLS", () => {
    const standalone = parse("  url: rediss://cache.internal:6380/2\n  tls: { caFile: /etc/ca.pem }\n");
    assert.equal(standalone.redis?.url, "rediss://cache.internal:6380/2");
    assert.equal(standalone.redis?.prefix, "{certrotor}");
    assert.equal(standalone.redis?.connectTimeout, 5_000);

    const cluster = parse(
      `  cluster: ["10.0.0.1:6379", "[::1]:7000"]\n  username: certrotor\n  password: "\${REDIS_PASSWORD}"\n  prefix: "{certrotor-prod}"\n  failoverTimeout: 20s\n`,
      { REDIS_PASSWORD: "s3cret" },
    );
    assert.deepEqual(cluster.redis?.cluster, ["10.0.0.1:6379", "[::1]:7000"]);
    assert.equal(cluster.redis?.password, "s3cret");
    assert.equal(cluster.redis?.failoverTimeout, 20_000);

    const sentinel = parse(
      "  sentinel: { sentinels: [s1:26379, s2:26379, s3:26379], name: certrotor, password: sp }\n  commandTimeout: 10s\n",
    );
    assert.equal(sentinel.redis?.sentinel?.name, "certrotor");
    assert.equal(sentinel.redis?.commandTimeout, 10_000);
  });

  it("refuses none, or more than one, of url, cluster and sentinel", () => {
    refused("  prefix: '{x}'\n", "redis: give one of url (standalone), cluster (nodes) or sentinel");
    refused(
      "  url: redis://a:6379\n  cluster: [b:6379]\n",
      "redis: give exactly one of url, cluster, sentinel (found url and cluster)",
    );
  });

  it("refuses a cluster prefix without a {hash tag} at load, saying why and what to write", () => {
    const message = refused(
      "  cluster: [10.0.0.1:6379]\n  prefix: certrotor-prod\n",
      'redis.prefix: "certrotor-prod" has no {hash tag}',
      "CROSSSLOT",
      'write it as "{certrotor-prod}"',
    );
    assert.ok(!message.includes("\n"), "one line");
    refused("  cluster: [10.0.0.1:6379]\n  prefix: '{}certrotor'\n", "has no {hash tag}");
    // standalone and Sentinel have one slot-less keyspace: any prefix is fine there
    assert.equal(parse("  url: redis://a:6379\n  prefix: plain\n").redis?.prefix, "plain");
    assert.equal(hashTagOf("{certrotor}:state:lock:held:{cred-1}"), "certrotor");
    assert.equal(hashTagOf("app-{blue}"), "blue");
    assert.equal(hashTagOf("{}x{y}"), undefined, "an empty first tag makes Redis hash the whole key");
  });

  it("refuses malformed nodes, TLS settings on a redis:// URL and a password given twice", () => {
    refused("  cluster: ['redis://10.0.0.1:6379']\n", 'redis.cluster[0]: expected "host:port"');
    refused(
      "  sentinel: { sentinels: [s1], name: m }\n",
      'redis.sentinel.sentinels[0]: expected "host:port"',
    );
    refused("  sentinel: { sentinels: [s1:26379] }\n", "redis.sentinel.name");
    refused("  url: redis://a:6379\n  tls: {}\n", "redis.url: redis.tls is set but the URL is redis://");
    refused(
      "  url: redis://u:p@a:6379\n  password: q\n",
      "redis.url: the URL carries a user or password and so do redis.username / redis.password",
    );
    refused("  url: http://a:6379\n", "redis.url: expected a redis:// or rediss:// URL");
  });

  it("builds each form's connection options: the section's user, password and TLS reach every node", () => {
    const cluster = parse(
      "  cluster: [10.0.0.1:6379]\n  username: cr\n  password: pw\n  tls: { serverName: redis.internal }\n",
    ).redis!;
    const options = clusterOptions(cluster, "state");
    assert.equal(options.redisOptions?.username, "cr");
    assert.equal(options.redisOptions?.password, "pw");
    assert.equal(options.redisOptions?.tls?.servername, "redis.internal");
    assert.equal(options.redisOptions?.tls?.rejectUnauthorized, true, "verification is explicit");
    assert.equal(options.redisOptions?.maxRetriesPerRequest, null, "a worker's state connection waits");
    assert.ok((options.maxRedirections ?? 0) * (options.retryDelayOnFailover ?? 0) >= 30_000);
    assert.ok((clusterOptions(cluster, "command").maxRedirections ?? 0) < 20, "commands fail fast");

    const url = parse("  url: redis://user:p%40ss@cache.internal:6390/3\n").redis!;
    const fromUrl = redisOptions(url, "command");
    assert.deepEqual(
      [fromUrl.host, fromUrl.port, fromUrl.db, fromUrl.username, fromUrl.password],
      ["cache.internal", 6390, 3, "user", "p@ss"],
    );
    assert.equal(tlsOptions(url), undefined);
    assert.equal(describeRedis(url), "redis://user:***@cache.internal:6390/3");

    const sentinel = parse("  sentinel: { sentinels: ['s1:26379'], name: m, password: sp }\n  tls: {}\n")
      .redis!;
    const viaSentinel = redisOptions(sentinel, "blocking");
    assert.deepEqual(viaSentinel.sentinels, [{ host: "s1", port: 26379 }]);
    assert.equal(viaSentinel.sentinelPassword, "sp");
    assert.equal(viaSentinel.enableTLSForSentinelMode, true);
    assert.equal(describeRedis(sentinel), 'sentinel master "m" (s1:26379)');
  });

  it("refuses at start-up, with one line and exit 64, a cluster prefix without a tag and an unreadable CA", async () => {
    const dir = await mkdtemp(join(tmpdir(), "certrotor-redis-config-"));
    try {
      const untagged = join(dir, "untagged.yaml");
      await writeFile(untagged, "redis:\n  cluster: ['127.0.0.1:1']\n  prefix: certrotor\n");
      const run = await certrotor("worker", "--config", untagged);
      assert.equal(run.code, 64, run.stderr);
      assert.match(
        run.stderr,
        /^certrotor: CONFIG_INVALID: .*redis\.prefix: "certrotor" has no \{hash tag\}.*$/m,
      );
      const noCa = join(dir, "no-ca.yaml");
      await writeFile(
        noCa,
        `redis:\n  url: rediss://127.0.0.1:1\n  tls: { caFile: ${join(dir, "missing.pem")} }\n`,
      );
      const status = await certrotor("status", "--config", noCa);
      assert.equal(status.code, 64, status.stderr);
      assert.match(
        status.stderr,
        /^certrotor: CONFIG_INVALID: redis\.tls\.caFile: cannot read ".*missing\.pem"/m,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
