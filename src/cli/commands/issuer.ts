import type { Command } from "commander";
import { CertrotorError } from "../../errors.js";
import { importCa } from "../../onboarding/import-ca.js";
import { readInputFile } from "../../onboarding/import-input.js";
import { addConfigOption, withRuntime } from "../context.js";

interface IssuerImportOptions {
  config: string;
  cert?: string;
  key?: string;
  chain?: string;
  replace?: boolean;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const HINT = "certrotor issuer import <issuer> --cert CA.pem --key CA.key [--chain FILE] [--replace]";

async function readFlag(flag: string, path: string | undefined): Promise<string> {
  if (path === undefined)
    throw new CertrotorError("BAD_ARGUMENT", `issuer import needs ${flag} FILE`, { hint: HINT });
  return (await readInputFile(flag, path)).toString("utf8");
}

export function register(program: Command): void {
  const issuer = program.command("issuer").description("The issuers' own material");
  addConfigOption(
    issuer
      .command("import <issuer>")
      .description(
        "Put an existing CA (certificate and key) into the store a local-ca issuer signs from (checked first)",
      )
      .option("--cert <file>", "the CA certificate, PEM")
      .option("--key <file>", "its private key, PEM (unencrypted)")
      .option("--chain <file>", "the CA's own issuers (intermediates, root), PEM")
      .option("--replace", "replace a different CA already in the store (it is kept as previous)"),
  ).action(async (name: string, options: IssuerImportOptions) => {
    // files first: a bad flag is refused before the config's stores are opened
    const certPem = await readFlag("--cert", options.cert);
    const keyPem = await readFlag("--key", options.key);
    const chainPem = options.chain ? await readFlag("--chain", options.chain) : undefined;
    await withRuntime(program, options.config, async (runtime) => {
      const result = await importCa(
        runtime,
        name,
        { certPem, keyPem, ...(chainPem ? { chainPem } : {}) },
        { replace: options.replace ?? false },
      );
      out(`issuer ${name}: CA ${result.fingerprint.slice(0, 16)}…, valid until ${result.notAfter}`);
      out(
        result.unchanged
          ? `unchanged: store "${result.store}" already holds this CA at ${result.path}; nothing was written`
          : `imported into store "${result.store}" at ${result.path}${result.replacedFingerprint ? `, replacing ${result.replacedFingerprint.slice(0, 16)}… (kept as previous)` : ""}`,
      );
    });
  });
}
