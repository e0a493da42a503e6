/**
 * A private Redis Cluster on loopback for tests and the soak: 3 masters and a replica each (by default),
 * every node on free ports (its client port and its cluster bus port), made with `redis-cli --cluster
 * create`, stopped by pid. `failover(master)` SIGKILLs a master and resolves once a replica has taken its
 * slots and the cluster serves again; `up()` on the killed node brings it back, as a replica.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { Redis } from "ioredis";
import { pollUntil } from "./poll.js";
import { freePort, type RedisServer, startRedis } from "./redis-server.js";

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a silent node takes to be declared failed (and failed over). */
  nodeTimeoutMs?: number;
}

export interface ClusterRoles {
  master: RedisServer;
  replicas: RedisServer[];
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** "host:port" of every node: what redis.cluster takes. */
  readonly addresses: string[];
  /** The hash slot of `key` (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** The master serving `key`'s slot now, and its replicas. */
  rolesOf(key: string): Promise<ClusterRoles>;
  /** SIGKILLs `master`; resolves once one of its replicas is master and the cluster state is ok again. */
  failover(master: RedisServer, timeoutMs?: number): Promise<{ promoted: RedisServer; ms: number }>;
  /** Resolves once every live node reports cluster_state:ok and all slots served (bounded). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function withClient<T>(node: RedisServer, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await run(client);
  } finally {
    client.disconnect();
  }
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

/** Node id → { address, flags, master id } from CLUSTER NODES. */
function parseNodes(text: string): Array<{ id: string; address: string; flags: string[]; masterId: string }> {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [id, endpoint, flags, masterId] = line.split(" ");
      return {
        id: id!,
        address: endpoint!.split("@")[0]!,
        flags: flags!.split(","),
        masterId: masterId!,
      };
    });
}

async function runRedisCli(args: string[]): Promise<void> {
  const child = spawn("redis-cli", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`redis-cli ${args.join(" ")} exited with ${code}: ${output.slice(-2_000)}`);
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const nodeTimeout = options.nodeTimeoutMs ?? 1_000;
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const busPort = await freePort();
      nodes.push(
        await startRedis({
          args: () => [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            String(nodeTimeout),
            "--cluster-port",
            String(busPort),
            // a replica fails over however long it was cut off: the test kills masters on purpose
            "--cluster-replica-validity-factor",
            "0",
          ],
        }),
      );
    }
    await runRedisCli([
      "--cluster",
      "create",
      ...nodes.map((node) => node.address),
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
  } catch (error) {
    await stop();
    throw error;
  }

  const byAddress = (address: string): RedisServer => {
    const node = nodes.find((n) => n.address === address);
    if (!node) throw new Error(`no node of this cluster at ${address}`);
    return node;
  };
  const live = (): RedisServer[] => nodes.filter((node) => node.pid() !== undefined);

  const waitHealthy = async (timeoutMs = 30_000): Promise<void> => {
    await pollUntil(
      async () => {
        for (const node of live()) {
          const healthy = await withClient(node, async (client) => {
            const info = await client.cluster("INFO");
            if (infoField(info, "cluster_state") !== "ok") return false;
            if (infoField(info, "cluster_slots_ok") !== "16384") return false;
            const replication = await client.info("replication");
            return (
              infoField(replication, "role") === "master" ||
              infoField(replication, "master_link_status") === "up"
            );
          });
          if (!healthy) return undefined;
        }
        return true;
      },
      { timeoutMs, what: "every cluster node to report cluster_state:ok with its replica in sync" },
    );
  };

  const topology = async () => {
    const node = live()[0];
    if (!node) throw new Error("no live node");
    return parseNodes(await withClient(node, (client) => client.cluster("NODES") as Promise<string>));
  };

  const rolesOf = async (key: string): Promise<ClusterRoles> => {
    const slot = await slotOf(key);
    const node = live()[0]!;
    const slots = await withClient(node, (client) => client.cluster("SLOTS"));
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    const master = range?.[2];
    if (!master) throw new Error(`slot ${slot} is not served`);
    // CLUSTER SLOTS leaves out replicas that have not replicated anything yet: CLUSTER NODES has them all
    const view = await topology();
    const masterId = view.find((n) => n.address === `${master[0]}:${master[1]}`)?.id;
    return {
      master: byAddress(`${master[0]}:${master[1]}`),
      replicas: view.filter((n) => n.masterId === masterId).map((n) => byAddress(n.address)),
    };
  };

  const slotOf = async (key: string): Promise<number> =>
    withClient(live()[0]!, (client) => client.cluster("KEYSLOT", key) as Promise<number>);

  await waitHealthy();
  return {
    nodes,
    addresses: nodes.map((node) => node.address),
    slotOf,
    rolesOf,
    waitHealthy,
    async failover(master, timeoutMs = 30_000) {
      const view = await topology();
      const masterId = view.find((n) => n.address === master.address)?.id;
      const candidates = view.filter((n) => n.masterId === masterId).map((n) => byAddress(n.address));
      if (candidates.length === 0) throw new Error(`${master.address} has no replica to fail over to`);
      const started = Date.now();
      await master.kill();
      const promoted = await pollUntil(
        async () => {
          for (const candidate of candidates) {
            const role = await withClient(candidate, (client) => client.role());
            if (role[0] === "master") return candidate;
          }
          return undefined;
        },
        { timeoutMs, what: `a replica of ${master.address} promoted to master` },
      );
      const ms = Date.now() - started;
      await waitHealthy(timeoutMs);
      return { promoted, ms };
    },
    stop,
  };
}
