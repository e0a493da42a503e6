/** The test harness's Redis: a private redis-server per test file (see src/util/redis-server.ts). */
export { assertRedisInstalled, freePort, type RedisServer, startRedis } from "../../src/util/redis-server.js";
