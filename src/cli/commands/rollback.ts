import type { Command } from "commander";
import { CertrotorError } from "../../errors.js";
import { rollbackCredential } from "../../onboarding/rollback.js";
import { addConfigOption, withRuntime } from "../context.js";
import { operatorName } from "../operator.js";

interface RollbackOptions {
  config: string;
  reason: string;
  operator?: string;
}

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
    if (!options.reason.trim())
      throw new CertrotorError("BAD_ARGUMENT", "--reason: give a reason for the audit trail", {
        hint: 'certrotor rollback <credential> --reason "consumers fail with the new certificate"',
      });
    await withRuntime(program, options.config, async (runtime) => {
      const credential = await runtime.credential(credentialId);
      const result = await rollbackCredential(runtime, credential, {
        reason: options.reason.trim(),
        operator: operatorName(options.operator),
      });
      out(`rollback ${credential.id} (${result.rollbackId})`);
      out(
        `  current: certificate ${result.restoredFingerprint.slice(0, 16)}… again (valid until ${result.restoredNotAfter}), replacing ${result.replacedFingerprint.slice(0, 16)}…, which stays bound`,
      );
      if (result.binding === "manual") {
        out(
          `  bank "${credential.bank}" has no slot API: if certificate ${result.restoredFingerprint.slice(0, 16)}… was unbound, bind it to client_id ${credential.clientId || "(the stored one)"} in the bank's portal`,
        );
      } else {
        out(
          `  bank "${credential.bank}": ${result.binding === "rebound" ? "bound again" : "still bound"}, and a token call with it succeeded`,
        );
      }
      out("rolled back");
    });
  });
}
