/**
 * The test harness's Redis: a private redis-server per test file (see src/util/redis-server.ts), a Redis
 * Cluster of 3 masters and 3 replicas (redis-cluster.ts) and a Sentinel group (redis-sentinel.ts), all on
 * free loopback ports, stopped by pid.
 */
export {
  assertRedisInstalled,
  freePort,
  type RedisServer,
  type RedisServerOptions,
  startRedis,
} from "../../src/util/redis-server.js";
export { type RedisCluster, startRedisCluster } from "../../src/util/redis-cluster.js";
export { type SentinelGroup, startSentinelGroup } from "../../src/util/redis-sentinel.js";
export { pollUntil } from "../../src/util/poll.js";
