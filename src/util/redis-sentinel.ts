/**
 * A private Sentinel setup on loopback for tests: one master, its replicas and three `redis-sentinel`
 * processes (Debian's redis-sentinel package) watching it with quorum 2, all on free ports, stopped by pid.
 * `failover()` SIGKILLs the current master and resolves on the sentinels' `+switch-master` event.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { pollUntil } from "./poll.js";
import {
  freePort,
  launchRedisProcess,
  type RedisServer,
  startRedis,
  stopRedisProcess,
} from "./redis-server.js";

export interface SentinelGroupOptions {
  /** The master group name (default "certrotor"). */
  name?: string;
  replicas?: number;
  /** sentinel down-after-milliseconds: how long a silent master takes to be declared down. */
  downAfterMs?: number;
}

export interface SentinelGroup {
  readonly name: string;
  /** Every data node (the first one started as the master). */
  readonly servers: readonly RedisServer[];
  /** "host:port" of each sentinel: what redis.sentinel.sentinels takes. */
  readonly sentinels: string[];
  /** The master the sentinels report now. */
  master(): Promise<RedisServer>;
  /** SIGKILLs the current master; resolves with the new one on `+switch-master` (bounded). */
  failover(timeoutMs?: number): Promise<{ previous: RedisServer; promoted: RedisServer; ms: number }>;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "redis-sentinel is not installed: install it with `apt-get update && apt-get install -y redis-sentinel` (Debian/Ubuntu)";

interface Sentinel {
  port: number;
  child: ChildProcess;
}

async function startSentinel(dir: string, name: string, master: RedisServer, downAfterMs: number) {
  const port = await freePort();
  const conf = join(dir, `sentinel-${port}.conf`);
  // the sentinel rewrites its own file (what it learnt about replicas and the other sentinels)
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      "daemonize no",
      'logfile ""',
      `sentinel monitor ${name} ${master.host} ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${Math.max(5_000, downAfterMs * 5)}`,
      `sentinel parallel-syncs ${name} 1`,
      "",
    ].join("\n"),
  );
  const child = await launchRedisProcess({
    command: "redis-sentinel",
    args: [conf],
    readyText: "+monitor master",
    installHint: INSTALL_HINT,
  });
  return { port, child };
}

function client(host: string, port: number): Redis {
  const redis = new Redis({
    host,
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
  });
  redis.on("error", () => undefined);
  return redis;
}

async function ask<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = client("127.0.0.1", port);
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
  const name = options.name ?? "certrotor";
  const downAfterMs = options.downAfterMs ?? 1_000;
  const servers: RedisServer[] = [];
  const sentinels: Sentinel[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(sentinels.map((s) => stopRedisProcess(s.child, "SIGTERM")));
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const master = await startRedis();
    servers.push(master);
    for (let i = 0; i < (options.replicas ?? 1); i++)
      servers.push(await startRedis({ args: () => ["--replicaof", master.host, String(master.port)] }));
    await pollUntil(
      () =>
        ask(master.port, async (redis) => {
          const info = await redis.info("replication");
          const online = info.match(/^slave\d+:.*state=online/gm)?.length ?? 0;
          return online >= servers.length - 1 ? true : undefined;
        }),
      { timeoutMs: 20_000, what: "the replicas in sync with the master" },
    );
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(master.dir, name, master, downAfterMs));
    // each sentinel must know the other two and the replicas before it can vote on a failover
    await pollUntil(
      async () => {
        for (const sentinel of sentinels) {
          const known = await ask(sentinel.port, async (redis) => {
            const peers = (await redis.call("SENTINEL", "SENTINELS", name)) as unknown[];
            const replicas = (await redis.call("SENTINEL", "REPLICAS", name)) as unknown[];
            return peers.length >= sentinels.length - 1 && replicas.length >= servers.length - 1;
          });
          if (!known) return undefined;
        }
        return true;
      },
      { timeoutMs: 30_000, what: "the sentinels to discover each other and the replicas" },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const byPort = (port: number): RedisServer => {
    const server = servers.find((s) => s.port === port);
    if (!server) throw new Error(`no server of this group on port ${port}`);
    return server;
  };
  const master = async (): Promise<RedisServer> => {
    const [, port] = (await ask(sentinels[0]!.port, (redis) =>
      redis.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name),
    )) as [string, string];
    return byPort(Number(port));
  };

  return {
    name,
    servers,
    sentinels: sentinels.map((s) => `127.0.0.1:${s.port}`),
    master,
    async failover(timeoutMs = 30_000) {
      const previous = await master();
      const watcher = client("127.0.0.1", sentinels[0]!.port);
      try {
        await watcher.connect();
        const switched = new Promise<number>((resolve) => {
          watcher.on("message", (_channel: string, message: string) => {
            // "<name> <old ip> <old port> <new ip> <new port>"
            const [group, , , , port] = message.split(" ");
            if (group === name) resolve(Number(port));
          });
        });
        await watcher.subscribe("+switch-master");
        const started = Date.now();
        await previous.kill();
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no +switch-master within ${timeoutMs} ms after killing the master`)),
            timeoutMs,
          );
        });
        const port = await Promise.race([switched, bound]).finally(() => clearTimeout(timer));
        return { previous, promoted: byPort(port), ms: Date.now() - started };
      } finally {
        watcher.disconnect();
      }
    },
    stop,
  };
}
