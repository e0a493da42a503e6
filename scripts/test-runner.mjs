#!/usr/bin/env node
// Runs the test files named on the command line, in that order, through node:test's run(): `node --test`
// sorts its files by name, which started the longest files (queue/, redis/, rotation/) last, as the run's
// tail. Started by scripts/run-tests.mjs in its test tree (scripts/test-tree.mjs), on the transpiled files;
// run() passes its node flags (--enable-source-maps) on to each file's process.
import { run } from "node:test";
import { spec, tap } from "node:test/reporters";

const concurrency = Number(process.env.TEST_CONCURRENCY ?? "2");
const stream = run({
  files: process.argv.slice(2),
  concurrency,
  // a bound on each file's process, so a hang fails the run with the file's name instead of stalling it
  timeout: 300_000,
});
stream.on("test:fail", () => {
  process.exitCode = 1;
});
stream.compose(process.stdout.isTTY ? spec : tap).pipe(process.stdout);
