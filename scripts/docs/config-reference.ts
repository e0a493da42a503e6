/**
 * The reference of every config field, walked from the zod schema (src/config/schema.ts): each field's
 * path, type and default come from the schema itself; its meaning and example from CONFIG_FIELDS
 * (scripts/docs/config-fields.ts), which must name every field the schema has. For docs/configuration.md.
 */
import type { z } from "zod";
import { formatDuration } from "../../src/config/duration.js";
import { configSchema, duration, positiveDuration } from "../../src/config/schema.js";
import { cell } from "./blocks.js";
import { CONFIG_FIELDS, type FieldDoc } from "./config-fields.js";

/** The parts of zod's internal definition this walk reads (zod 4's `_zod.def`). */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  entries?: Record<string, string>;
  values?: unknown[];
  defaultValue?: unknown;
  format?: string;
  checks?: Array<{ _zod: { def: { check: string; value?: unknown; format?: string } } }>;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

export interface FieldRow {
  /** Lookup key in CONFIG_FIELDS: the path, then `@` and the variants it applies to, when any. */
  key: string;
  path: string;
  /** Discriminator values on the way, e.g. ["kind: vault", "method: approle"]. */
  variants: string[];
  type: string;
  default: string;
  doc: FieldDoc | undefined;
}

interface Unwrapped {
  schema: z.ZodType;
  optional: boolean;
  defaultValue?: unknown;
  duration?: "any" | "positive";
}

/** Peels optional/default/pipe wrappers, keeping what they say. */
function unwrap(schema: z.ZodType): Unwrapped {
  const out: Unwrapped = { schema, optional: false };
  for (;;) {
    if (out.schema === duration) return { ...out, duration: out.duration ?? "any" };
    if (out.schema === positiveDuration) return { ...out, duration: "positive" };
    const def = defOf(out.schema);
    if (def.type === "optional") {
      out.optional = true;
      out.schema = def.innerType!;
    } else if (def.type === "default") {
      if (out.defaultValue === undefined) out.defaultValue = def.defaultValue;
      out.schema = def.innerType!;
    } else if (def.type === "pipe") {
      out.schema = def.in!;
    } else return out;
  }
}

function numberType(def: Def): string {
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  const int = checks.some((c) => c.format === "safeint" || c.format === "int32");
  const min = checks.find((c) => c.check === "greater_than")?.value;
  const max = checks.find((c) => c.check === "less_than")?.value;
  const range =
    min !== undefined && max !== undefined ? ` ${min}–${max}` : min !== undefined ? ` ≥ ${min}` : "";
  return `${int ? "integer" : "number"}${range}`;
}

function typeOf(u: Unwrapped): string {
  if (u.duration) return u.duration === "positive" ? "duration > 0" : "duration";
  const def = defOf(u.schema);
  switch (def.type) {
    case "string":
      return def.format === "url" ? "URL" : "string";
    case "number":
      return numberType(def);
    case "boolean":
      return "boolean";
    case "enum":
      return Object.values(def.entries ?? {})
        .map((v) => `\`${v}\``)
        .join(" \\| ");
    case "literal":
      return (def.values ?? []).map((v) => `\`${String(v)}\``).join(" \\| ");
    case "array":
      return `list of ${typeOf(unwrap(def.element!))}`;
    case "record":
      return "map of name → object";
    case "object":
      return "object";
    default:
      return def.type;
  }
}

function formatDefault(u: Unwrapped): string {
  const value = u.defaultValue;
  if (value === undefined) return u.optional ? "—" : "required";
  if (u.duration && typeof value === "number") return `\`${formatDuration(value)}\``;
  if (typeof value === "object" && value !== null) {
    if (Array.isArray(value)) return value.length === 0 ? "`[]`" : `\`${JSON.stringify(value)}\``;
    return Object.keys(value).length === 0 ? "`{}`" : "see its fields";
  }
  if (typeof value === "number" && !Number.isInteger(value)) return `\`${Number(value.toFixed(4))}\``;
  return `\`${String(value)}\``;
}

/** CONFIG_FIELDS entry of a field: for its variants exactly, else for the first variant, else any. */
function lookup(path: string, variants: string[]): { key: string; doc: FieldDoc | undefined } {
  const values = variants.map((v) => v.split(": ")[1]);
  const keys = [
    values.length > 0 ? `${path}@${values.join("/")}` : undefined,
    values.length > 1 ? `${path}@${values[0]}` : undefined,
    path,
  ].filter((k): k is string => k !== undefined);
  for (const key of keys) if (CONFIG_FIELDS[key]) return { key, doc: CONFIG_FIELDS[key] };
  return { key: keys[0]!, doc: undefined };
}

/**
 * `within` is the nearest section above that may be left out: a field required there is required only
 * when that section is given.
 */
function* walk(schema: z.ZodType, path: string, variants: string[], within?: string): Generator<FieldRow> {
  const u = unwrap(schema);
  const inner = u.optional && u.defaultValue === undefined ? path : within;
  const def = defOf(u.schema);
  const row = (): FieldRow => ({
    ...lookup(path, variants),
    path,
    variants,
    type: typeOf(u),
    default: formatDefault(u) === "required" && within ? `required in \`${within}\`` : formatDefault(u),
  });
  const here = lookup(path, variants);
  // A field documented as a whole (a map of names, a per-credential override) is one row.
  if (here.doc?.whole) {
    yield row();
    return;
  }
  if (!u.duration && def.type === "object") {
    if (here.doc) yield row();
    for (const [name, field] of Object.entries(def.shape ?? {})) {
      yield* walk(field, path ? `${path}.${name}` : name, variants, inner);
    }
  } else if (!u.duration && def.type === "union" && def.discriminator) {
    for (const option of def.options ?? []) {
      const tag =
        defOf(option).shape?.[def.discriminator] ??
        defOf(defOf(option).in ?? option).shape?.[def.discriminator];
      const value = tag ? String(defOf(tag).values?.[0]) : "?";
      const optionDef = defOf(unwrap(option).schema);
      for (const [name, field] of Object.entries(optionDef.shape ?? {})) {
        const fieldPath = `${path}.${name}`;
        if (name === def.discriminator) {
          const first = (def.options ?? [])[0] === option;
          if (first)
            yield {
              ...lookup(fieldPath, variants),
              path: fieldPath,
              variants,
              type: kinds(def),
              default: "required",
            };
          continue;
        }
        yield* walk(field, fieldPath, [...variants, `${def.discriminator}: ${value}`], inner);
      }
    }
  } else if (!u.duration && def.type === "record") {
    yield* walk(def.valueType!, `${path}.<name>`, variants, inner);
  } else if (!u.duration && def.type === "array" && defOf(unwrap(def.element!).schema).type === "object") {
    yield* walk(def.element!, `${path}[]`, variants, inner);
  } else {
    yield row();
  }
}

/** The values a discriminator takes, as a type. */
function kinds(def: Def): string {
  return (def.options ?? [])
    .map((option) => defOf(unwrap(option).schema).shape?.[def.discriminator!])
    .map((tag) => (tag ? `\`${String(defOf(tag).values?.[0])}\`` : "?"))
    .join(" \\| ");
}

/**
 * Every field once: a field that several variants share with the same type, default and meaning (the
 * connection fields of both bank kinds) is one row naming all of them.
 */
export function configRows(): FieldRow[] {
  const merged = new Map<string, FieldRow>();
  for (const row of walk(configSchema, "", [])) {
    const same = `${row.path}|${row.type}|${row.default}|${row.doc?.meaning ?? row.key}`;
    const seen = merged.get(same);
    if (seen) seen.variants = mergeVariants(seen.variants, row.variants);
    else merged.set(same, { ...row });
  }
  return [...merged.values()];
}

/** Two variant lists differing in their last item: the last items joined with "or". */
function mergeVariants(a: string[], b: string[]): string[] {
  if (a.length === 0 || a.length !== b.length) return a;
  const [last, other] = [a[a.length - 1]!, b[b.length - 1]!];
  const tag = last.split(": ")[0];
  const values = `${last.split(": ")[1]} or ${other.split(": ")[1]}`;
  return [...a.slice(0, -1), `${tag}: ${values}`];
}

/** An example of a field in YAML: the documented one, else its default, else one its type allows. */
function example(row: FieldRow): string {
  if (row.doc?.example !== undefined) return `\`${row.doc.example}\``;
  const leaf = row.path.split(".").pop()!.replace("[]", "");
  if (row.default !== "required" && row.default !== "—" && row.default !== "see its fields")
    return `\`${leaf}: ${row.default.replace(/`/g, "")}\``;
  if (row.type === "boolean") return `\`${leaf}: true\``;
  if (row.type.startsWith("duration")) return `\`${leaf}: 1h\``;
  const firstValue = /^`([^`]+)`/.exec(row.type);
  if (firstValue) return `\`${leaf}: ${firstValue[1]}\``;
  return "";
}

/** Every value each discriminator takes among `rows` ("kind" → file, vault, aws). */
function valuesByTag(rows: readonly FieldRow[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const row of rows) {
    for (const variant of row.variants) {
      const [tag, values] = variant.split(": ") as [string, string];
      for (const value of values.split(" or ")) out.set(tag, (out.get(tag) ?? new Set()).add(value));
    }
  }
  return out;
}

/** The "for" cell: the variants a field belongs to, "all" where it belongs to every one. */
function forColumn(variants: readonly string[], every: Map<string, Set<string>>): string {
  const named = variants.filter((variant) => {
    const [tag, values] = variant.split(": ") as [string, string];
    return values.split(" or ").length < (every.get(tag)?.size ?? 0);
  });
  return named.map((v) => `\`${v}\``).join(", ") || "all";
}

/** One table per top-level key, in the schema's order. */
export function configReference(): string {
  const rows = configRows();
  const missing = rows.filter((r) => !r.doc).map((r) => r.key);
  if (missing.length > 0) {
    throw new Error(
      `config fields without a meaning in scripts/docs/config-fields.ts: ${missing.join(", ")} (add them, then npm run docs:gen)`,
    );
  }
  const sections = new Map<string, FieldRow[]>();
  for (const row of rows) {
    const top = row.path.split(/[.[]/)[0]!;
    sections.set(top, [...(sections.get(top) ?? []), row]);
  }
  const out: string[] = [];
  for (const [top, list] of sections) {
    const withVariants = list.some((r) => r.variants.length > 0);
    out.push(`### \`${top}\``, "");
    out.push(
      withVariants
        ? "| field | for | type | default | meaning | example |"
        : "| field | type | default | meaning | example |",
      withVariants ? "|---|---|---|---|---|---|" : "|---|---|---|---|---|",
    );
    const every = valuesByTag(list);
    for (const r of list) {
      const cells = [`\`${r.path}\``];
      if (withVariants) cells.push(forColumn(r.variants, every));
      cells.push(r.type, r.default, cell(r.doc!.meaning), example(r));
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n").trim();
}
