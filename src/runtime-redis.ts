/**
 * The runtime's state in Redis: journal, locks, alert episodes and tasks on one connection. A module of its
 * own so that runtime.ts loads ioredis and the Redis adapters only when `redis:` is configured.
 */
import { createRedisEpisodes } from "./alerts/episodes.js";
import type { RedisConfig } from "./config/schema.js";
import { createRedisJournal } from "./journal/redis.js";
import { createRedisLockManager } from "./locks/redis.js";
import type { Logger } from "./observability/logger.js";
import { closeConnection, redisConnection } from "./redis/connection.js";
import { createRedisErrorLog, logRedisErrors } from "./redis/error-log.js";
import { assertRedisReachable } from "./redis/probe.js";
import { type SharedState, statePrefix } from "./runtime-state.js";
import { createRedisTasks } from "./tasks/index.js";

export async function openRedisState(
  settings: RedisConfig,
  role: "worker" | "command",
  logger: Logger,
): Promise<SharedState> {
  if (role === "command") await assertRedisReachable(settings);
  const connection = redisConnection(settings, role === "worker" ? "state" : "command");
  // a worker logs what its connections go through (bounded); a command's failures surface on the calls
  // that fail (REDIS_UNAVAILABLE)
  const errors = createRedisErrorLog(logger);
  if (role === "worker") logRedisErrors(connection, errors, "state");
  else connection.on("error", () => undefined);
  const prefix = statePrefix(settings);
  return {
    journal: createRedisJournal(connection, { prefix: `${prefix}journal:`, lockPrefix: `${prefix}lock:` }),
    locks: createRedisLockManager(connection, { prefix: `${prefix}lock:` }),
    episodes: createRedisEpisodes(connection, { prefix: `${prefix}alerts:episodes:` }),
    tasks: createRedisTasks(connection, { prefix: `${prefix}tasks:`, lockPrefix: `${prefix}lock:` }),
    redis: {
      settings,
      connection,
      errors,
      connect: (connectionRole) => redisConnection(settings, connectionRole),
    },
    close: async () => {
      await closeConnection(connection);
      errors.close();
    },
  };
}
