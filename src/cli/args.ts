/**
 * Parsers of command-line option values (commander's argParser): a malformed number, port or duration is
 * refused by the CLI before anything starts, as `certrotor: BAD_ARGUMENT: ...` with exit 64.
 */
import { InvalidArgumentError } from "commander";
import { parseDuration } from "../config/duration.js";

function integer(value: string, what: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected ${what}, got "${value}"`);
  return Number.parseInt(value, 10);
}

/** A TCP port, 0 (a free port) to 65535. */
export function portArg(value: string): number {
  const port = integer(value, "a port number 0-65535");
  if (port < 0 || port > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got ${port}`);
  return port;
}

/** An integer from `min` to `max`. */
export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = integer(value, `an integer ${min}-${max}`);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer ${min}-${max}, got ${n}`);
    return n;
  };
}

/** A duration ("90s", "15m", "6h", "30d") greater than zero, in milliseconds. */
export function durationArg(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : parseDuration(value);
  if (ms === undefined || !(ms > 0))
    throw new InvalidArgumentError(
      `expected a duration greater than 0 like "90s", "15m", "6h", got "${value}"`,
    );
  return ms;
}

/** One of `values` (commander's .choices() says the same, but its message lists no hint). */
export function enumArg<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`expected one of ${values.join(", ")}, got "${value}"`);
  };
}

/** A Redis URL (redis:// or rediss://), as the config's redis.url. */
export function redisUrlArg(value: string): string {
  if (!/^rediss?:\/\/\S*$/.test(value)) {
    throw new InvalidArgumentError('expected a redis:// or rediss:// URL (e.g. "redis://127.0.0.1:6379")');
  }
  return value;
}
