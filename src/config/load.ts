/**
 * Loads the config file once, at the edge: YAML → ${ENV} interpolation → schema → cross-references →
 * frozen result. Every problem is reported at once, each naming its exact path.
 */
import { open } from "node:fs/promises";
import type { ZodError } from "zod";
import { CertrotorError } from "../errors.js";
import {
  cronProblems,
  crossReferenceProblems,
  durationProblems,
  movedKeyProblems,
  stateProblems,
} from "./checks.js";
import { type Config, configSchema } from "./schema.js";
import { MAX_CONFIG_BYTES, parseYaml } from "./yaml.js";

/** Problems listed in one error; the rest are counted (a broken 40 MB file must not become a 40 MB line). */
export const MAX_PROBLEMS = 20;
/** Longest problem line kept (a value quoted in a message is cut, never the field path before it). */
const MAX_PROBLEM_CHARS = 300;

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

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** `source: p1; p2; ...` with at most MAX_PROBLEMS problems, each cut to MAX_PROBLEM_CHARS, then a count. */
export function problemReport(source: string, problems: readonly string[]): string {
  const shown = problems
    .slice(0, MAX_PROBLEMS)
    .map((line) => line.replace(/\s+/g, " "))
    .map((line) => (line.length > MAX_PROBLEM_CHARS ? `${line.slice(0, MAX_PROBLEM_CHARS - 1)}…` : line));
  const more = problems.length - shown.length;
  const tail = more > 0 ? `; and ${more} more problem${more === 1 ? "" : "s"}` : "";
  return `${source}: ${shown.join("; ")}${tail}`;
}

function refuse(code: "CONFIG_INVALID" | "ENV_MISSING", source: string, problems: string[]): never {
  throw new CertrotorError(code, problemReport(source, problems), {
    details: { source, problems: problems.length },
  });
}

/** Parses config text. `source` names the file in error messages. */
export function parseConfig(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Config> {
  const raw = parseYaml(text);
  if (!raw.ok) refuse("CONFIG_INVALID", source, raw.problems);
  const missing: string[] = [];
  const interpolated = interpolateEnv(raw.value, env, "", missing);
  if (missing.length > 0) refuse("ENV_MISSING", source, missing);
  const moved = movedKeyProblems(interpolated);
  if (moved.length > 0) refuse("CONFIG_INVALID", source, moved);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) refuse("CONFIG_INVALID", source, formatZodIssues(parsed.error));
  const problems = [
    ...stateProblems(parsed.data),
    ...crossReferenceProblems(parsed.data),
    ...cronProblems(parsed.data),
    ...durationProblems(parsed.data),
  ];
  if (problems.length > 0) refuse("CONFIG_INVALID", source, problems);
  return deepFreeze(parsed.data);
}

/** The file's text, refusing more than MAX_CONFIG_BYTES without reading further (/dev/zero ends too). */
async function readBounded(path: string): Promise<string> {
  const handle = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_CONFIG_BYTES) {
        throw new CertrotorError(
          "CONFIG_INVALID",
          `${path}: the file is larger than ${MAX_CONFIG_BYTES} bytes, the most a config may be`,
          { details: { source: path } },
        );
      }
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    await handle.close();
  }
}

export async function loadConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Readonly<Config>> {
  let text: string;
  try {
    text = await readBounded(path);
  } catch (error) {
    if (error instanceof CertrotorError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new CertrotorError("CONFIG_NOT_FOUND", `cannot read config file ${path} (${code})`, {
      cause: error,
      details: { path },
    });
  }
  return parseConfig(text, path, env);
}
