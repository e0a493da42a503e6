/** The table of every error code (src/errors.ts): retryable, the CLI's exit code, meaning. For docs/errors.md. */
import { exitCodeFor } from "../../src/cli/errors.js";
import { CertrotorError, ERROR_CODES, type ErrorCode } from "../../src/errors.js";
import { cell } from "./blocks.js";

export function errorTable(): string {
  const lines = ["| code | retryable | exit code | meaning |", "|---|---|---|---|"];
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    const exit = exitCodeFor(new CertrotorError(code as ErrorCode, code));
    lines.push(`| \`${code}\` | ${spec.retryable ? "yes" : "no"} | ${exit} | ${cell(spec.summary)} |`);
  }
  return lines.join("\n");
}
