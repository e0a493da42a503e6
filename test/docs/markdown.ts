/** Reading the repository's Markdown as GitHub renders it: which files, their headings' anchors, their links. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** README.md and every Markdown file under docs/, as paths from the root. */
export function markdownFiles(): string[] {
  const found = ["README.md"];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir)).sort()) {
      const path = `${dir}/${entry}`;
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (entry.endsWith(".md")) found.push(path);
    }
  };
  walk("docs");
  return found;
}

export const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

/** The lines outside fenced code blocks, with their line numbers. */
export function* prose(text: string): Generator<{ line: string; number: number }> {
  let fenced = false;
  for (const [i, line] of text.split("\n").entries()) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) yield { line, number: i + 1 };
  }
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor of a document, with GitHub's -1, -2 suffixes for repeated headings. */
export function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line } of prose(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const count = seen.get(base) ?? 0;
    out.add(count === 0 ? base : `${base}-${count}`);
    seen.set(base, count + 1);
  }
  return out;
}

/** The links of a document outside code: inline `[text](target)` ones, inline code spans removed first. */
export function* links(text: string): Generator<{ target: string; number: number }> {
  for (const { line, number } of prose(text)) {
    const bare = line.replace(/`[^`]*`/g, "``");
    for (const match of bare.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) yield { target: match[1]!, number };
  }
}
