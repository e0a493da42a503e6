/** Rewrites README.md's error table from src/errors.ts (`npm run docs:errors`); test/docs checks it. */
import { readFileSync, writeFileSync } from "node:fs";
import { ERROR_CODES } from "../src/errors.js";

const lines = ["| code | retryable | meaning |", "|---|---|---|"];
for (const [code, spec] of Object.entries(ERROR_CODES)) {
  lines.push(`| \`${code}\` | ${spec.retryable ? "yes" : "no"} | ${spec.summary} |`);
}
const path = new URL("../README.md", import.meta.url);
const readme = readFileSync(path, "utf8");
writeFileSync(
  path,
  readme.replace(/<!-- error-table -->(\n\|[^\n]*)*/, `<!-- error-table -->\n${lines.join("\n")}`),
);
