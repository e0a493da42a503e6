/**
 * Small readers for the packaging files, so their tests need no Docker engine, no Vault and no cluster:
 * Dockerfile instructions grouped by stage, .dockerignore matching (Docker's rules: `*` and `?` within a
 * path segment, `**` across segments, a matching folder excludes everything under it), and Vault HCL
 * policies made only of `path "..." { capabilities = [...] }` blocks.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function repoFile(path: string): string {
  return readFileSync(join(REPO, path), "utf8");
}

// ---------------------------------------------------------------- Dockerfile

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions per stage (lines joined over `\` continuations, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, "");
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const joined = (pending + line).trim();
    pending = "";
    if (joined !== "") logical.push(joined);
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/s.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.replace(/\s+/g, " ").trim();
    if (keyword === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile: cannot read "FROM ${args}"`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? parsed : undefined;
}

/** COPY/ADD sources and destination, options (`--from=`, `--chown=`) apart. */
export function copyParts(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = execForm(args) ?? args.split(" ");
  const options = words.filter((word) => word.startsWith("--"));
  const paths = words.filter((word) => !word.startsWith("--"));
  const from = options.find((option) => option.startsWith("--from="))?.slice("--from=".length);
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? "" };
}

// ---------------------------------------------------------------- .dockerignore

function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*" && pattern[i + 1] === "*") {
      // `**/` = zero or more folders; a trailing `**` = anything
      const slash = pattern[i + 2] === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Whether `path` (relative to the build context) is left out of the context by these patterns. */
export function dockerIgnores(ignoreText: string, path: string): boolean {
  const rules = ignoreText
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => ({
      negate: line.startsWith("!"),
      regexp: globToRegExp(line.replace(/^!/, "").replace(/^\/+|\/+$/g, "")),
    }));
  const segments = path.split("/");
  // A path is out when it, or a folder above it, matches; the last matching rule decides.
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
  let excluded = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regexp.test(candidate))) excluded = !rule.negate;
  }
  return excluded;
}

// ---------------------------------------------------------------- Vault HCL policy

export interface PolicyRule {
  path: string;
  capabilities: string[];
}

/** The `path` blocks of a policy; anything else (other stanzas, parameters) is an error. */
export function parseVaultPolicy(text: string): PolicyRule[] {
  const body = text.replace(/#[^\n]*/g, "");
  const block = /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
  const rules: PolicyRule[] = [];
  let rest = body;
  for (const match of body.matchAll(block)) {
    const capabilities = [...match[2]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    rules.push({ path: match[1]!, capabilities });
    rest = rest.replace(match[0], "");
  }
  if (rest.trim() !== "") throw new Error(`Vault policy: unexpected content ${JSON.stringify(rest.trim())}`);
  return rules;
}
