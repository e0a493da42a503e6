/**
 * Loads the config file once, at the edge: YAML → ${ENV} interpolation → schema → cross-references →
 * frozen result. Every problem is reported at once, each naming its exact path.
 */
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import type { ZodError } from "zod";
import { CertrotorError, isCertrotorError } from "../errors.js";
import { validateCron } from "../rotation/window.js";
import { type Config, configSchema } from "./schema.js";

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} in every string of `value`; collects the names of unset variables. */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string,
  missing: string[],
): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_REF, (_match, variable: string, fallback: string | undefined) => {
      const found = env[variable];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      missing.push(`${path || "(root)"}: environment variable ${variable} is not set`);
      return "";
    });
  }
  if (Array.isArray(value))
    return value.map((item, i) => interpolateEnv(item, env, `${path}[${i}]`, missing));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        interpolateEnv(item, env, path ? `${path}.${key}` : key, missing),
      ]),
    );
  }
  return value;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(root)";
}

/** One line per zod issue: `credentials[2].keyType: expected one of rsa2048, rsa3072, ...`. */
export function formatZodIssues(error: ZodError): string[] {
  return error.issues.map((issue) => {
    const where = formatPath(issue.path);
    if (issue.code === "invalid_value" && "values" in issue) {
      return `${where}: expected one of ${issue.values.map(String).join(", ")}`;
    }
    if (issue.code === "unrecognized_keys" && "keys" in issue) {
      return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
    }
    if (issue.code === "invalid_type" && "expected" in issue) {
      return `${where}: expected ${issue.expected}${issue.message.includes("received undefined") ? " (missing)" : ""}`;
    }
    if (issue.code === "invalid_union" && "note" in issue && issue.note === "No matching discriminator") {
      return `${where}: unknown or missing "${String((issue as { discriminator?: string }).discriminator ?? "kind")}"`;
    }
    return `${where}: ${issue.message}`;
  });
}

/** Names that credentials, issuers and discovery rules point at must exist. */
function crossReferenceProblems(config: Config): string[] {
  const problems: string[] = [];
  const need = (kind: "stores" | "banks" | "issuers", value: string, where: string): void => {
    if (!(value in config[kind])) {
      const known = Object.keys(config[kind]);
      problems.push(
        `${where}: no ${kind.slice(0, -1)} named "${value}" (configured: ${known.length ? known.join(", ") : "none"})`,
      );
    }
  };
  const seen = new Set<string>();
  config.credentials.forEach((credential, i) => {
    if (seen.has(credential.id))
      problems.push(`credentials[${i}].id: duplicate credential id "${credential.id}"`);
    seen.add(credential.id);
    need("stores", credential.store, `credentials[${i}].store`);
    need("banks", credential.bank, `credentials[${i}].bank`);
    need("issuers", credential.issuer, `credentials[${i}].issuer`);
  });
  config.discovery.forEach((rule, i) => {
    need("stores", rule.store, `discovery[${i}].store`);
    need("banks", rule.bank, `discovery[${i}].bank`);
    need("issuers", rule.issuer, `discovery[${i}].issuer`);
  });
  for (const [name, issuer] of Object.entries(config.issuers)) {
    if (issuer.kind === "local-ca") need("stores", issuer.store, `issuers.${name}.store`);
    if (issuer.kind === "bank") need("banks", issuer.bank, `issuers.${name}.bank`);
  }
  config.credentials.forEach((credential, i) => {
    for (const [j, channel] of (credential.alerts ?? []).entries()) {
      if (!(channel in config.alerts.channels)) {
        problems.push(`credentials[${i}].alerts[${j}]: no alert channel named "${channel}"`);
      }
    }
  });
  return problems;
}

/** Keys that moved: a config still using one is refused with a line naming the new key. */
const MOVED: ReadonlyArray<{ from: [string, string]; to: string }> = [
  { from: ["worker", "redisUrl"], to: "redis.url" },
  { from: ["worker", "queuePrefix"], to: "redis.prefix" },
];

function movedKeyProblems(raw: unknown): string[] {
  const problems: string[] = [];
  for (const { from, to } of MOVED) {
    const section = (raw as Record<string, unknown> | null)?.[from[0]];
    if (section !== null && typeof section === "object" && from[1] in section) {
      problems.push(
        `${from.join(".")}: moved to ${to} (one redis: section serves the worker and every command; write redis: { ${to.split(".")[1]}: ... })`,
      );
    }
  }
  return problems;
}

/** `state` must agree with `redis`: every entry point uses Redis whenever it is configured. */
function stateProblems(config: Config): string[] {
  if (config.state === "file" && config.redis)
    return [
      "state: file cannot be combined with a redis: section (the workers keep their journal, locks and alert episodes in Redis, so every command must too); remove state, or remove redis for a single-host setup",
    ];
  if (config.state === "redis" && !config.redis) return ["state: redis needs a redis: section with a url"];
  return [];
}

/** Every cron pattern and time zone is checked at load time: a bad one never silently schedules nothing. */
function cronProblems(config: Config): string[] {
  const problems: string[] = [];
  const check = (pattern: string | undefined, timezone: string, where: string): void => {
    if (pattern === undefined) return;
    try {
      validateCron(pattern, where, timezone);
    } catch (error) {
      problems.push(isCertrotorError(error) ? error.message : `${where}: invalid cron pattern "${pattern}"`);
    }
  };
  check(config.schedules.scan, config.schedules.timezone, "schedules.scan");
  check(config.schedules.retire, config.schedules.timezone, "schedules.retire");
  check(config.renewal.window?.cron, config.renewal.window?.timezone ?? "UTC", "renewal.window.cron");
  config.credentials.forEach((c, i) => {
    check(
      c.renewal?.window?.cron,
      c.renewal?.window?.timezone ?? "UTC",
      `credentials[${i}].renewal.window.cron`,
    );
  });
  config.discovery.forEach((d, i) => {
    check(
      d.renewal?.window?.cron,
      d.renewal?.window?.timezone ?? "UTC",
      `discovery[${i}].renewal.window.cron`,
    );
  });
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** Parses config text. `source` names the file in error messages. */
export function parseConfig(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Config> {
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) {
    const lines = document.errors.map((e) => `${source}: YAML ${e.message.split("\n")[0]}`);
    throw new CertrotorError("CONFIG_INVALID", lines.join("; "), { details: { source } });
  }
  const raw = document.toJS() ?? {};
  const missing: string[] = [];
  const interpolated = interpolateEnv(raw, env, "", missing);
  if (missing.length > 0) {
    throw new CertrotorError("ENV_MISSING", `${source}: ${missing.join("; ")}`, { details: { source } });
  }
  const moved = movedKeyProblems(interpolated);
  if (moved.length > 0) {
    throw new CertrotorError("CONFIG_INVALID", `${source}: ${moved.join("; ")}`, { details: { source } });
  }
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    const lines = formatZodIssues(parsed.error);
    throw new CertrotorError("CONFIG_INVALID", `${source}: ${lines.join("; ")}`, { details: { source } });
  }
  const problems = [
    ...stateProblems(parsed.data),
    ...crossReferenceProblems(parsed.data),
    ...cronProblems(parsed.data),
  ];
  if (problems.length > 0) {
    throw new CertrotorError("CONFIG_INVALID", `${source}: ${problems.join("; ")}`, { details: { source } });
  }
  return deepFreeze(parsed.data);
}

export async function loadConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Readonly<Config>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new CertrotorError("CONFIG_NOT_FOUND", `cannot read config file ${path} (${code})`, {
      cause: error,
      details: { path },
    });
  }
  return parseConfig(text, path, env);
}
