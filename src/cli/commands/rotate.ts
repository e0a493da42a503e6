import type { Command } from "commander";
import { CertrotorError } from "../../errors.js";
import { runRotation } from "../../rotation/run.js";
import { addConfigOption, withRuntime } from "../context.js";
import { EXIT } from "../errors.js";
import { progressHooks } from "../progress.js";

interface RotateOptions {
  config: string;
  wait?: boolean;
  force?: boolean;
  inline?: boolean;
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("rotate <credential>")
      .description("Rotate one credential on demand (through the queue, or --inline without Redis)")
      .option("--wait", "follow the rotation step by step and exit with its outcome")
      .option("--force", "may unbind a stale certificate certrotor issued earlier to free a bank slot")
      .option("--inline", "run the saga in this process, without Redis (implies --wait)"),
  ).action(async (credentialId: string, options: RotateOptions) => {
    if (!options.inline) {
      throw new CertrotorError("BAD_ARGUMENT", "rotate: queued rotation needs the worker; use --inline to rotate in this process");
    }
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    const progress = progressHooks(out);
    process.exitCode = await withRuntime(
      program,
      options.config,
      async (runtime) => {
        const resolved = await runtime.credential(credentialId);
        // on-demand rotations are never "not due"; --force also lets register free a slot held by a stale own cert
        const credential = options.force
          ? { ...resolved, policy: { ...resolved.policy, unbindStaleOwnCerts: true } }
          : resolved;
        const deps = runtime.depsFor(credential);
        out(`rotate ${credential.id} (inline)`);
        const result = await runRotation(deps, credential, {
          trigger: "on-demand",
          force: true,
          onRetry: ({ attempt, delayMs, error }) =>
            out(`  attempt ${attempt} failed: ${error.code}: ${error.message}; retrying in ${Math.round(delayMs / 1000)} s`),
        });
        progress.flush();
        switch (result.status) {
          case "not-due":
            out(`not due: ${result.message}`);
            return EXIT.ok;
          case "succeeded":
            out(`succeeded: rotation ${result.rotationId}, new certificate ${result.record.newFingerprint?.slice(0, 16)}…, old one unbound`);
            return EXIT.ok;
          case "retire-due":
            out(
              `promoted: rotation ${result.rotationId}, new certificate ${result.record.newFingerprint?.slice(0, 16)}… is current; old one is retired at ${result.retireDueAt.toISOString()} (certrotor retire-due)`,
            );
            return EXIT.ok;
          case "consumers-on-old-cert":
            out(`promoted, but CONSUMERS_ON_OLD_CERT: ${result.record.errorMessage}`);
            return EXIT.failed;
          case "failed":
            out(
              `failed after ${result.attempts} attempt(s): ${result.error.toSafeString()}; rolled back (${result.rollback.unbound ? "new cert unbound, " : ""}${result.rollback.droppedPending ? "pending dropped, " : ""}old material still current)`,
            );
            return EXIT.failed;
        }
      },
      { hooks: progress },
    );
  });
}
