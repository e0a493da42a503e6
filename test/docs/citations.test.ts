/**
 * The code cites the design by number ("invariant 3", "invariants 1–3", "seed 001"): each number cited in
 * src/, test/ or jobs/ has its heading in docs/design.md ("### Invariant 3: …", "### Seed 001: …"), so a
 * reader can look it up.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { prose, read, ROOT } from "./markdown.js";

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) yield* sources(path);
    else if (/\.(ts|mjs|js)$/.test(entry)) yield path;
  }
}

/** Every "invariant N", "invariants N–M" / "N-M" / "N and M" / "N, M", and "seed NNN" (also "seed 000/001"). */
export function citations(text: string): { invariants: Set<number>; seeds: Set<string> } {
  const invariants = new Set<number>();
  const seeds = new Set<string>();
  for (const match of text.matchAll(/\binvariants?\s+(\d+(?:\s*(?:[–-]|,|and|&)\s*\d+)*)/gi)) {
    const list = match[1]!;
    for (const range of list.matchAll(/(\d+)\s*[–-]\s*(\d+)/g)) {
      for (let n = Number(range[1]); n <= Number(range[2]); n++) invariants.add(n);
    }
    for (const single of list.matchAll(/\d+/g)) invariants.add(Number(single[0]));
  }
  for (const match of text.matchAll(/\bseeds?\s+(\d{3}(?:\s*(?:\/|,|and)\s*\d{3})*)/gi)) {
    for (const seed of match[1]!.matchAll(/\d{3}/g)) seeds.add(seed[0]);
  }
  return { invariants, seeds };
}

describe("design citations", () => {
  const headings = [...prose(read("docs/design.md"))]
    .map(({ line }) => line)
    .filter((l) => l.startsWith("#"));
  const hasInvariant = (n: number) => headings.some((h) => new RegExp(`^###\\s+Invariant ${n}:`).test(h));
  const hasSeed = (s: string) => headings.some((h) => new RegExp(`^###\\s+Seed ${s}:`).test(h));

  it("are read from the code as they are written", () => {
    const found = citations("invariants 1–3, invariant 5; seed 000/001 and seeds 002, 003");
    assert.deepEqual([...found.invariants].sort(), [1, 2, 3, 5]);
    assert.deepEqual([...found.seeds].sort(), ["000", "001", "002", "003"]);
  });

  it("each resolve to a heading of docs/design.md", () => {
    const unresolved: string[] = [];
    for (const path of [...sources("src"), ...sources("test"), ...sources("jobs")]) {
      const { invariants, seeds } = citations(readFileSync(join(ROOT, path), "utf8"));
      for (const n of invariants) if (!hasInvariant(n)) unresolved.push(`${path}: invariant ${n}`);
      for (const s of seeds) if (!hasSeed(s)) unresolved.push(`${path}: seed ${s}`);
    }
    assert.deepEqual(unresolved, [], "citations without a heading in docs/design.md");
  });

  it("cover invariants 1 to 7 and the four seeds", () => {
    for (let n = 1; n <= 7; n++) assert.ok(hasInvariant(n), `### Invariant ${n}: …`);
    for (const s of ["000", "001", "002", "003"]) assert.ok(hasSeed(s), `### Seed ${s}: …`);
  });
});
