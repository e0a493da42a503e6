import type { Command } from "commander";
import { alertConsumersOnOldCert } from "../../alerts/rotation-alerts.js";
import { retireDue } from "../../rotation/retire-due.js";
import { addConfigOption, withRuntime } from "../context.js";
import { EXIT } from "../errors.js";
import { inlineAlerts } from "../inline-alerts.js";

const out = (line: string): void => void process.stdout.write(`${line}\n`);

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
      if (options.json) out(JSON.stringify(results, null, 2));
      else if (results.length === 0) out("nothing is due for retirement");
      // alert lines would break the JSON document: with --json they go to stderr
      const alerts = inlineAlerts(runtime, options.json ? (line) => process.stderr.write(`${line}\n`) : out);
      try {
        for (const item of results) {
          const what =
            "error" in item ? `failed: ${item.error.code}: ${item.error.message}` : item.outcome.status;
          if (!options.json) out(`${item.credentialId} (${item.rotationId}): ${what}`);
          if ("outcome" in item && item.outcome.status === "consumers-on-old-cert")
            await alertConsumersOnOldCert(
              alerts.deps,
              await runtime.credential(item.credentialId),
              item.outcome.record,
            );
        }
      } finally {
        await alerts.close();
      }
      return results.some((r) => "error" in r) ? EXIT.failed : EXIT.ok;
    });
  });
}
