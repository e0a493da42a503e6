/**
 * A Lua script run by its SHA1 (EVALSHA), loaded on first use or after a server restart (NOSCRIPT), and
 * the mapping of ioredis failures: a reply error from our own script is a bug (INTERNAL); a refused
 * permission is REDIS_ACCESS_DENIED; what a failover or restart answers (READONLY, CLUSTERDOWN, TRYAGAIN,
 * LOADING, MASTERDOWN, MOVED) and anything else (connection refused, closed, timeout) is REDIS_UNAVAILABLE,
 * retryable.
 */
import { createHash } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { isAccessDenied, type RedisClient, redisMessage } from "./connection.js";
import { isRedisTransient } from "./error-log.js";

export interface LuaScript {
  run(redis: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown>;
}

export function redisError(action: string, error: unknown): CertrotorError {
  if (error instanceof CertrotorError) return error;
  const name = (error as Error | undefined)?.name;
  if (isAccessDenied(error)) {
    return new CertrotorError("REDIS_ACCESS_DENIED", `redis refused ${action}: ${redisMessage(error)}`, {
      cause: error,
      hint: "the ACL user must have the keys under redis.prefix and the commands in infra/redis/certrotor.acl",
    });
  }
  if (name === "ReplyError" && !isRedisTransient(error)) {
    return new CertrotorError("INTERNAL", `redis refused ${action}`, { cause: error });
  }
  return new CertrotorError("REDIS_UNAVAILABLE", `redis: ${action} failed: ${(error as Error).message}`, {
    cause: error,
  });
}

export function luaScript(name: string, source: string): LuaScript {
  const sha = createHash("sha1").update(source).digest("hex");
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as Error).message).startsWith("NOSCRIPT")) throw redisError(name, error);
      }
      try {
        return await redis.eval(source, keys.length, ...keys, ...args);
      } catch (error) {
        throw redisError(name, error);
      }
    },
  };
}
