/**
 * Every relative link of README.md and docs/ leads somewhere: the file exists and, when the link names an
 * anchor, the file has a heading with that anchor. Links to the web are not followed (no network in CI).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, it } from "node:test";
import { anchors, links, markdownFiles, read, ROOT } from "./markdown.js";

describe("docs links", () => {
  it("resolve to a file of the repository and to a heading of it", () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      for (const { target, number } of links(read(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const resolved = path === "" ? file : normalize(join(dirname(file), decodeURIComponent(path)));
        const where = `${file}:${number}: ${target}`;
        if (!existsSync(join(ROOT, resolved))) {
          broken.push(`${where} (no file ${resolved})`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith(".md") && !anchors(read(resolved)).has(anchor)) {
          broken.push(`${where} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    assert.deepEqual(broken, [], "broken links");
  });
});
