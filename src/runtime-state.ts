/** What the runtime's state is made of, shared by runtime.ts (file state) and runtime-redis.ts (Redis). */
import type { EpisodeStore } from "./alerts/episodes.js";
import type { RedisConfig } from "./config/schema.js";
import type { Journal } from "./journal/types.js";
import type { LockManager } from "./locks/types.js";
import type { ConnectionRole, RedisClient } from "./redis/connection.js";
import type { RedisErrorLog } from "./redis/error-log.js";
import type { TaskStore } from "./tasks/index.js";

/** Redis key prefix of the journal, locks and episodes: inside the prefix's hash tag (Redis Cluster). */
export function statePrefix(settings: Pick<RedisConfig, "prefix">): string {
  return `${settings.prefix}:state:`;
}

/** The shared Redis of a runtime whose state is in Redis. */
export interface RuntimeRedis {
  readonly settings: RedisConfig;
  /** The connection of the journal, locks and episodes (owned by the runtime). */
  readonly connection: RedisClient;
  /** Redis errors of this process, logged at a bounded rate (see src/redis/error-log.ts). */
  readonly errors: RedisErrorLog;
  /** A new connection with the same settings (the caller closes it). */
  connect(role: ConnectionRole): RedisClient;
}

export interface SharedState {
  journal: Journal;
  locks: LockManager;
  episodes: EpisodeStore;
  tasks: TaskStore;
  redis?: RuntimeRedis;
  close(): Promise<void>;
}
