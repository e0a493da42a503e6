/**
 * Console sessions, in the shared state like the journal and the locks (src/runtime.ts picks): Redis keys
 * with a TTL beside the journal when the state is Redis, one file each under stateDir otherwise, so every
 * console process (and a worker that mounts the console) sees the same logins. The key is a digest of the
 * session id: a dump of the state holds no cookie that logs anyone in.
 */
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { redisError } from "../redis/lua.js";
import { type Runtime, statePrefix } from "../runtime.js";
import { ensureDir, readText, removeFile, replaceAtomic, stateError } from "../state/files.js";

export type Role = "viewer" | "operator";

export interface SessionData {
  /** Absent on the anonymous session that carries the login form's CSRF secret. */
  user?: string;
  role?: Role;
  /** The CSRF secret of this session (@fastify/csrf-protection reads it as `session._csrf`). */
  _csrf: string;
  expiresAt: string;
}

export interface Session extends SessionData {
  readonly id: string;
}

export interface SessionStore {
  create(data: Omit<SessionData, "_csrf" | "expiresAt">, ttlMs: number, now: Date): Promise<Session>;
  /** The live session with this id, or null (unknown, expired). */
  get(id: string, now: Date): Promise<Session | null>;
  destroy(id: string): Promise<void>;
}

const digest = (id: string): string => createHash("sha256").update(id).digest("hex");

function newSession(data: Omit<SessionData, "_csrf" | "expiresAt">, ttlMs: number, now: Date): Session {
  return {
    id: randomBytes(32).toString("base64url"),
    ...data,
    _csrf: randomBytes(18).toString("base64url"),
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
  };
}

function parse(id: string, text: string | null | undefined, now: Date): Session | null {
  if (!text) return null;
  const data = JSON.parse(text) as SessionData;
  return Date.parse(data.expiresAt) > now.getTime() ? { ...data, id } : null;
}

const record = (session: Session): string => {
  const { id: _id, ...data } = session;
  return JSON.stringify(data);
};

export function sessionStoreFor(runtime: Pick<Runtime, "redis" | "config">): SessionStore {
  const redis = runtime.redis;
  if (redis) {
    const prefix = `${statePrefix(redis.settings)}console:session:`;
    const call = async <T>(action: string, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        throw redisError(action, error);
      }
    };
    return {
      create: (data, ttlMs, now) =>
        call("console session create", async () => {
          const session = newSession(data, ttlMs, now);
          await redis.connection.set(`${prefix}${digest(session.id)}`, record(session), "PX", ttlMs);
          return session;
        }),
      get: (id, now) =>
        call("console session read", async () =>
          parse(id, await redis.connection.get(`${prefix}${digest(id)}`), now),
        ),
      destroy: (id) =>
        call("console session end", async () => {
          await redis.connection.del(`${prefix}${digest(id)}`);
        }),
    };
  }
  const dir = join(runtime.config.stateDir, "console", "sessions");
  const file = (id: string): string => join(dir, `${digest(id)}.json`);
  return {
    async create(data, ttlMs, now) {
      const session = newSession(data, ttlMs, now);
      await ensureDir(dir);
      await replaceAtomic(file(session.id), record(session));
      return session;
    },
    async get(id, now) {
      const path = file(id);
      const session = parse(id, await readText(path), now);
      if (!session) await removeFile(path).catch(() => undefined);
      return session;
    },
    async destroy(id) {
      await removeFile(file(id)).catch((error: unknown) => {
        throw stateError("console session end", file(id), error);
      });
    },
  };
}
