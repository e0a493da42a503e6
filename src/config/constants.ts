/**
 * Config enumerations the command line needs before any config is read (option parsers, help text):
 * apart from schema.ts so that `certrotor --help` does not load zod.
 */
export const KEY_TYPES = ["rsa2048", "rsa3072", "rsa4096", "p256", "p384"] as const;
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type KeyType = (typeof KEY_TYPES)[number];
