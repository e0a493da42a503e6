import type { Command } from "commander";
import { checkRollbackText, rollbackCredential } from "../../onboarding/rollback.js";
import type { RestoredBinding } from "../../onboarding/rollback-bank.js";
import { addConfigOption, withRuntime } from "../context.js";
import { operatorName } from "../operator.js";

interface RollbackOptions {
  config: string;
  reason: string;
  operator?: string;
}

const BINDING_TEXT: Record<RestoredBinding, string> = {
  rebound: "the previous certificate was bound again, and a token call with it succeeded",
  "cut-over":
    "single slot: the current certificate was unbound and the previous one bound, and a token call with it succeeded",
  bound: "the previous certificate was still bound, and a token call with it succeeded",
  portal: "registration manual: a token call shows the previous certificate is still bound in the portal",
  "trusted-ca": "registration none: the bank trusts the issuing CA, and a token call with it succeeded",
};

const out = (line: string): void => void process.stdout.write(`${line}\n`);

export function register(program: Command): void {
  addConfigOption(
    program
      .command("rollback <credential>")
      .description(
        "Put the previous material back as current (compare-and-set), rebinding its certificate at the bank if it was unbound",
      )
      .requiredOption("--reason <text>", "why, for the audit trail")
      .option("--operator <name>", "who rolls back, for the audit trail (default $USER)"),
  ).action(async (credentialId: string, options: RollbackOptions) => {
    checkRollbackText([
      ["--reason", options.reason],
      ["--operator", options.operator ?? ""],
    ]);
    await withRuntime(program, options.config, async (runtime) => {
      const credential = await runtime.credential(credentialId);
      const result = await rollbackCredential(runtime, credential, {
        reason: options.reason.trim(),
        operator: operatorName(options.operator),
      });
      out(`rollback ${credential.id} (${result.rollbackId})`);
      out(
        `  current: certificate ${result.restoredFingerprint.slice(0, 16)}… again (valid until ${result.restoredNotAfter}), replacing ${result.replacedFingerprint.slice(0, 16)}…${result.binding === "cut-over" ? ", now unbound (single slot)" : ", which stays bound"}`,
      );
      out(`  bank "${credential.bank}": ${BINDING_TEXT[result.binding]}`);
      out("rolled back");
    });
  });
}
