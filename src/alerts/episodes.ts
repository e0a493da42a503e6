/**
 * Failure episodes: one alert when a failure begins, one resolve when it ends, nothing for the attempts
 * and scans in between. An episode is (credential, kind); its dedup key `certrotor/<credentialId>/<kind>`
 * is stable across attempts and scans, and the resolve reuses it (PagerDuty closes the incident by it).
 *
 * Redis adapter: one hash per credential (field = kind, value = when it opened) under the state prefix,
 * inside the queue prefix's {hash tag}. The file adapter (episodes-file.ts) serves `--inline` runs, so a
 * cron job that fails every hour alerts once; the memory adapter serves tests.
 */
import type { RedisClient } from "../redis/connection.js";
import { luaScript, redisError } from "../redis/lua.js";
import { ALERT_KINDS, type AlertKind } from "../queue/payloads.js";

/** Kinds that are notices, not failures: they never open an episode. */
const NOT_EPISODES = ["rotation-succeeded", "resolved", "test", "manual-task-reminder", "cut-over"] as const;
export type EpisodeKind = Exclude<AlertKind, (typeof NOT_EPISODES)[number]>;

export function isEpisodeKind(kind: AlertKind): kind is EpisodeKind {
  return !(NOT_EPISODES as readonly string[]).includes(kind);
}

export interface OpenEpisode {
  kind: EpisodeKind;
  /** ISO 8601; tells one episode of a kind from a later one. */
  openedAt: string;
}

export interface EpisodeStore {
  /** Opens the episode; true only when it was not open already (alert once). */
  open(credentialId: string, kind: EpisodeKind, at: Date): Promise<boolean>;
  /** The credential's open episodes. */
  list(credentialId: string): Promise<OpenEpisode[]>;
  /** Ends one episode; with `openedAt`, only that episode (a later one of the same kind stays). */
  resolve(credentialId: string, kind: EpisodeKind, openedAt?: string): Promise<boolean>;
}

export function episodeKey(credentialId: string, kind: AlertKind): string {
  return `certrotor/${credentialId}/${kind}`;
}

export function parseEpisodeKey(key: string): { credentialId: string; kind: AlertKind } | undefined {
  const match = /^certrotor\/([^/]+)\/([^/]+)$/.exec(key);
  if (!match || !(ALERT_KINDS as readonly string[]).includes(match[2]!)) return undefined;
  return { credentialId: match[1]!, kind: match[2] as AlertKind };
}

/** Open episodes from a flat [kind, openedAt, kind, openedAt, …] list, oldest first; unknown kinds dropped. */
export function episodesOf(flat: readonly string[]): OpenEpisode[] {
  const out: OpenEpisode[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const kind = flat[i] as AlertKind;
    if ((ALERT_KINDS as readonly string[]).includes(kind) && isEpisodeKind(kind))
      out.push({ kind, openedAt: flat[i + 1]! });
  }
  return out.sort((a, b) => a.openedAt.localeCompare(b.openedAt) || a.kind.localeCompare(b.kind));
}

const resolveIf = luaScript(
  "episode-resolve",
  `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`,
);

/** `prefix` e.g. `${statePrefix(config)}alerts:episodes:`. The connection stays the caller's. */
export function createRedisEpisodes(redis: RedisClient, options: { prefix: string }): EpisodeStore {
  const key = (credentialId: string): string => `${options.prefix}${credentialId}`;
  const call = async <T>(action: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw redisError(action, error);
    }
  };
  return {
    open: (credentialId, kind, at) =>
      call("episode open", async () => (await redis.hsetnx(key(credentialId), kind, at.toISOString())) === 1),
    list: (credentialId) =>
      call("episode list", async () => {
        const all = await redis.hgetall(key(credentialId));
        return episodesOf(Object.entries(all).flat());
      }),
    async resolve(credentialId, kind, openedAt) {
      if (openedAt === undefined) {
        return call("episode resolve", async () => (await redis.hdel(key(credentialId), kind)) === 1);
      }
      return (await resolveIf.run(redis, [key(credentialId)], [kind, openedAt])) === 1;
    },
  };
}

export function createMemoryEpisodes(): EpisodeStore {
  const open = new Map<string, Map<EpisodeKind, string>>();
  const of = (id: string): Map<EpisodeKind, string> => {
    const episodes = open.get(id) ?? new Map<EpisodeKind, string>();
    open.set(id, episodes);
    return episodes;
  };
  return {
    async open(credentialId, kind, at) {
      const episodes = of(credentialId);
      if (episodes.has(kind)) return false;
      episodes.set(kind, at.toISOString());
      return true;
    },
    async list(credentialId) {
      return episodesOf([...of(credentialId)].flat());
    },
    async resolve(credentialId, kind, openedAt) {
      const episodes = of(credentialId);
      if (!episodes.has(kind) || (openedAt !== undefined && episodes.get(kind) !== openedAt)) return false;
      return episodes.delete(kind);
    },
  };
}
