import type { Command } from "commander";
import { retireDue } from "../../rotation/retire-due.js";
import { addConfigOption, withRuntime } from "../context.js";
import { EXIT } from "../errors.js";

export function register(program: Command): void {
  addConfigOption(
    program
      .command("retire-due")
      .description(
        "Unbind old certificates whose grace period has passed (what the worker's retire job does)",
      )
      .option("--json", "print the results as JSON"),
  ).action(async (options: { config: string; json?: boolean }) => {
    process.exitCode = await withRuntime(program, options.config, async (runtime) => {
      const results = await retireDue(runtime.journal, runtime.now(), async (id) => {
        const credential = await runtime.credential(id);
        return { credential, deps: runtime.depsFor(credential) };
      });
      if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      else if (results.length === 0) process.stdout.write("nothing is due for retirement\n");
      for (const item of options.json ? [] : results) {
        const what =
          "error" in item ? `failed: ${item.error.code}: ${item.error.message}` : item.outcome.status;
        process.stdout.write(`${item.credentialId} (${item.rotationId}): ${what}\n`);
      }
      return results.some((r) => "error" in r) ? EXIT.failed : EXIT.ok;
    });
  });
}
