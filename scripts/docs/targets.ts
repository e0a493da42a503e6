/** Each generated block of the docs: the file, the block's name, and what renders it from the code. */
import { cliReference } from "./cli-reference.js";
import { configReference } from "./config-reference.js";
import { errorTable } from "./errors-table.js";
import { metricsTable } from "./metrics-table.js";

export interface Target {
  /** Path from the repository root. */
  file: string;
  block: string;
  render(): string | Promise<string>;
}

export const TARGETS: readonly Target[] = [
  { file: "docs/errors.md", block: "error codes", render: errorTable },
  { file: "docs/metrics.md", block: "metrics", render: metricsTable },
  { file: "docs/cli.md", block: "commands", render: cliReference },
  { file: "docs/configuration.md", block: "config fields", render: configReference },
];
