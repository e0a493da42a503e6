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
