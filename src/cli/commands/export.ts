import type { Command } from "commander";
import { CertrotorError } from "../../errors.js";
import { exportMaterial } from "../../onboarding/export.js";
import { addConfigOption, withRuntime } from "../context.js";

interface ExportOptions {
  config: string;
  out: string;
  includeKey?: boolean;
  pfxPassphraseEnv?: string;
  force?: boolean;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

function passphraseFrom(options: ExportOptions): string | undefined {
  if (!options.pfxPassphraseEnv) return undefined;
  if (!options.includeKey)
    throw new CertrotorError("BAD_ARGUMENT", "--pfx-passphrase-env is only used with --include-key", {
      hint: "add --include-key to export the key and a PKCS#12",
    });
  const value = process.env[options.pfxPassphraseEnv];
  if (!value) {
    throw new CertrotorError(
      "ENV_MISSING",
      `--pfx-passphrase-env ${options.pfxPassphraseEnv}: the environment variable is not set or empty`,
      { hint: `export ${options.pfxPassphraseEnv} first (its value is never shown)` },
    );
  }
  return value;
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("export <credential>")
      .description(
        "Write a credential's current certificate, chain and a summary to files (--include-key: also its key and a PKCS#12, mode 0600)",
      )
      .requiredOption(
        "--out <dir>",
        "directory to write into (created, mode 0700; must be empty unless --force)",
      )
      .option("--include-key", "also write key.pem and credential.p12 (mode 0600)")
      .option(
        "--pfx-passphrase-env <var>",
        "with --include-key: environment variable holding the PKCS#12 passphrase (else a random one is written to credential.p12.passphrase)",
      )
      .option("--force", "write into a directory that already holds files (same names are replaced)"),
  ).action(async (credentialId: string, options: ExportOptions) => {
    const pfxPassphrase = passphraseFrom(options);
    await withRuntime(program, options.config, async (runtime) => {
      const credential = await runtime.credential(credentialId);
      const store = runtime.stores.get(credential.store);
      if (!store)
        throw new CertrotorError(
          "CONFIG_INVALID",
          `credential "${credential.id}": store "${credential.store}" is not configured`,
        );
      const current = await store.readCurrent(credential.ref);
      const files = await exportMaterial({
        credentialId: credential.id,
        current,
        dir: options.out,
        includeKey: options.includeKey ?? false,
        ...(pfxPassphrase ? { pfxPassphrase } : {}),
        force: options.force ?? false,
      });
      out(
        `export ${credential.id} (certificate ${current.material.fingerprint.slice(0, 16)}…, valid until ${current.material.notAfter}) to ${options.out}:`,
      );
      for (const file of files)
        out(`  ${file.name.padEnd(26)} ${file.secret ? "(0600) " : ""}${file.summary}`);
    });
  });
}
