/**
 * Redis errors, logged at a bounded rate. A failover makes every connection report the same few errors
 * many times a second (MOVED while the nodes disagree, READONLY from a demoted master, refused connections
 * to the dead one): each kind is logged the first time, then at most once per `everyMs` with the count of
 * what was left out, so a minute of failover is a handful of lines instead of hundreds of thousands.
 */
import type { Logger } from "../observability/logger.js";
import { type RedisClient, redisMessage } from "./connection.js";

export interface RedisErrorLog {
  /** Logs `error` from `source` (a connection or queue name) unless its kind was logged recently. */
  report(source: string, error: unknown): void;
  /** How many errors were seen, by kind (for tests and metrics). */
  readonly seen: Readonly<Record<string, number>>;
  /** Writes the counts still held back and stops the timers. */
  close(): void;
}

const REPLY_KINDS = /^(MOVED|ASK|READONLY|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|NOPERM|WRONGPASS|NOAUTH)\b/;
const SOCKET_CODES = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND)\b/;

/** The kind of a Redis error: the reply's first word, the socket error code, or what ioredis said. */
export function redisErrorKind(error: unknown): string {
  const message = redisMessage(error);
  const reply = REPLY_KINDS.exec(message);
  if (reply) return reply[1]!;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && /^E[A-Z]+$/.test(code)) return code;
  const socket = SOCKET_CODES.exec(message);
  if (socket) return socket[1]!;
  if (/Too many Cluster redirections/.test(message)) return "cluster-redirections";
  if (/Failed to refresh slots cache/.test(message)) return "cluster-slots";
  if (/All sentinels are unreachable|sentinel/i.test(message)) return "sentinel";
  if (/Connection is closed|Stream isn't writeable|Cluster is ended/i.test(message))
    return "connection-closed";
  if (/timed out|timeout/i.test(message)) return "timeout";
  return "other";
}

/** True for the errors a failover or a restart produces (as opposed to a bug or a refused script). */
export function isRedisTransient(error: unknown): boolean {
  return redisErrorKind(error) !== "other";
}

interface Held {
  count: number;
  since: number;
  source: string;
  last: string;
  timer?: NodeJS.Timeout;
}

export function createRedisErrorLog(
  logger: Logger,
  options: { everyMs?: number; now?: () => number } = {},
): RedisErrorLog {
  const everyMs = options.everyMs ?? 10_000;
  const now = options.now ?? Date.now;
  const lastLogged = new Map<string, number>();
  const held = new Map<string, Held>();
  const seen: Record<string, number> = {};

  const flush = (kind: string): void => {
    const pending = held.get(kind);
    if (!pending) return;
    held.delete(kind);
    clearTimeout(pending.timer);
    lastLogged.set(kind, now());
    logger.warn(
      {
        kind,
        source: pending.source,
        repeated: pending.count,
        overMs: now() - pending.since,
        err: pending.last,
      },
      "redis error repeated",
    );
  };

  return {
    seen,
    report(source, error) {
      const kind = redisErrorKind(error);
      seen[kind] = (seen[kind] ?? 0) + 1;
      const message = redisMessage(error).slice(0, 300);
      const at = now();
      const previous = lastLogged.get(kind);
      if (previous === undefined || at - previous >= everyMs) {
        if (held.has(kind)) flush(kind);
        lastLogged.set(kind, at);
        logger.warn({ kind, source, err: message }, "redis error");
        return;
      }
      const pending = held.get(kind);
      if (pending) {
        pending.count++;
        pending.last = message;
        pending.source = source;
        return;
      }
      const entry: Held = { count: 1, since: at, source, last: message };
      // the count is written when the window ends, even if the errors stopped meanwhile
      entry.timer = setTimeout(() => flush(kind), Math.max(0, previous + everyMs - at));
      entry.timer.unref();
      held.set(kind, entry);
    },
    close() {
      for (const kind of [...held.keys()]) flush(kind);
    },
  };
}

/** Reports every error a connection emits (a Cluster's per-node errors too) to `log`. */
export function logRedisErrors(client: RedisClient, log: RedisErrorLog, source: string): void {
  client.on("error", (error: unknown) => log.report(source, error));
  client.on("node error", (error: unknown) => log.report(`${source} (node)`, error));
}
