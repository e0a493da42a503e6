/**
 * Config text → plain data, with every YAML-level problem as one line naming the line, the column and the
 * key it is at ("line 4, column 3: duplicate key "main" (in stores)"). Bounded against hostile input: a
 * file over MAX_CONFIG_BYTES, flow collections nested deeper than MAX_FLOW_DEPTH (the yaml package runs
 * out of memory on ten thousand `[`), and aliases expanding past MAX_ALIAS_COUNT (a "billion laughs"
 * bomb) are each refused with their own line instead of hanging or crashing the process.
 */
import { parseDocument, type YAMLError } from "yaml";

export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
export const MAX_FLOW_DEPTH = 64;
/** Alias nodes one document may resolve: ordinary configs use a handful, a bomb needs billions. */
export const MAX_ALIAS_COUNT = 100;

export type YamlResult = { ok: true; value: unknown } | { ok: false; problems: string[] };

/** The key written on the 1-based `line` ("  main:" → main), if that line starts with one. */
function keyOnLine(lines: readonly string[], line: number): string | undefined {
  const text = lines[line - 1] ?? "";
  const match = /^\s*(?:-\s+)*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#:'"][^:#]*?)\s*:(?:\s|$)/.exec(text);
  return match?.[1]?.replace(/^["']|["']$/g, "").slice(0, 80);
}

/** The block-style keys enclosing `line`, outermost first (found by indentation). */
function parentKeys(lines: readonly string[], line: number): string[] {
  const indentOf = (text: string): number => /^\s*(?:-\s+)*/.exec(text)![0].length;
  let indent = indentOf(lines[line - 1] ?? "");
  const parents: string[] = [];
  for (let i = line - 1; i >= 1 && indent > 0; i--) {
    const text = lines[i - 1] ?? "";
    if (text.trim() === "" || text.trim().startsWith("#")) continue;
    const own = indentOf(text);
    if (own < indent) {
      const key = keyOnLine(lines, i);
      if (key !== undefined) parents.unshift(key);
      indent = own;
    }
  }
  return parents;
}

function describeYamlError(error: YAMLError, lines: readonly string[]): string {
  const at = error.linePos?.[0];
  const where = at ? `line ${at.line}, column ${at.col}` : "YAML";
  const parents = at ? parentKeys(lines, at.line) : [];
  const inside = parents.length > 0 ? ` (in ${parents.join(".")})` : "";
  if (error.code === "DUPLICATE_KEY" && at) {
    const key = keyOnLine(lines, at.line) ?? "?";
    return `${where}: duplicate key "${key}"${inside}: each key may appear once in a mapping`;
  }
  const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  const key = at ? keyOnLine(lines, at.line) : undefined;
  return `${where}${key ? ` (key "${key}")` : ""}${inside}: YAML ${message}`;
}

/** Depth of nested flow collections ([ ] { }) outside quotes and comments: a cheap scan before parsing. */
function deepFlowLine(text: string): number | undefined {
  let depth = 0;
  let line = 1;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      comment = false;
      if (quote === "'") quote = undefined; // a broken single-quoted scalar: the parser reports it
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) comment = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth > MAX_FLOW_DEPTH) return line;
    } else if ((c === "]" || c === "}") && depth > 0) depth--;
  }
  return undefined;
}

/** Parses one YAML (or JSON) document. */
export function parseYaml(text: string): YamlResult {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CONFIG_BYTES) {
    return {
      ok: false,
      problems: [`the file is ${bytes} bytes; a config may be at most ${MAX_CONFIG_BYTES} bytes`],
    };
  }
  const deep = deepFlowLine(text);
  if (deep !== undefined) {
    return {
      ok: false,
      problems: [`line ${deep}: flow collections ([ ] { }) nested deeper than ${MAX_FLOW_DEPTH} levels`],
    };
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const lines = text.split("\n");
  if (document.errors.length > 0) {
    return { ok: false, problems: document.errors.map((error) => describeYamlError(error, lines)) };
  }
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {} };
  } catch (error) {
    // yaml throws a ReferenceError for an alias bomb and for an alias without its anchor
    const message = error instanceof Error ? error.message : String(error);
    const why = /excessive alias count/i.test(message)
      ? `aliases (*name) expand to more than ${MAX_ALIAS_COUNT} nodes: refused as a resource exhaustion ("billion laughs") attack`
      : `YAML ${message.split("\n")[0]!.slice(0, 200)}`;
    return { ok: false, problems: [why] };
  }
}
