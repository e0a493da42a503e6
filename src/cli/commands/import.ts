import type { Command } from "commander";
import { importCredential } from "../../onboarding/import.js";
import { type ImportFlags, readImportInput } from "../../onboarding/import-input.js";
import { addConfigOption, withRuntime } from "../context.js";
import { operatorName } from "../operator.js";

interface ImportOptions extends ImportFlags {
  config: string;
  verify: boolean;
  operator?: string;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

export function register(program: Command): void {
  addConfigOption(
    program
      .command("import <credential>")
      .description(
        "Bring a credential's existing certificate, key and client secret into its store as current (checked, then proven with a token call)",
      )
      .option("--cert <file>", "the client certificate, PEM (further blocks count as its chain)")
      .option("--key <file>", "its private key, PEM (unencrypted)")
      .option("--chain <file>", "intermediate CA certificates, PEM")
      .option("--pfx <file>", "a PKCS#12 holding key, certificate and chain (instead of --cert/--key)")
      .option("--pfx-passphrase-env <var>", "environment variable holding the PKCS#12 passphrase")
      .option("--client-secret-env <var>", "environment variable holding the credential's client_secret")
      .option("--client-secret-stdin", "read the client_secret from stdin")
      .option("--no-verify", "do not prove the material with a token call at the bank before writing it")
      .option("--operator <name>", "who imports, for the audit trail (default $USER)"),
  ).action(async (credentialId: string, options: ImportOptions) => {
    // files and secrets first: a bad flag is refused before the config's stores are even opened
    const input = await readImportInput(options);
    await withRuntime(program, options.config, async (runtime) => {
      const credential = await runtime.credential(credentialId);
      const result = await importCredential(runtime, credential, input, {
        verify: options.verify,
        operator: operatorName(options.operator),
      });
      const store = runtime.config.stores[credential.store];
      out(
        `import ${credential.id} into store "${credential.store}" (${store?.kind}) at ${credential.ref.path}`,
      );
      out(`  certificate ${result.fingerprint.slice(0, 16)}…, valid until ${result.notAfter}`);
      out(
        result.verified
          ? `  verified: bank "${credential.bank}" issued a token for it`
          : "  not verified (--no-verify)",
      );
      out(
        result.unchanged
          ? "unchanged: the store already holds this material as current; nothing was written"
          : `imported: now current${result.replacedFingerprint ? `, replacing ${result.replacedFingerprint.slice(0, 16)}… (kept as previous)` : ""}`,
      );
    });
  });
}
