import { resolve } from "node:path";
import type { Command } from "commander";
import { KEY_TYPES, type KeyType } from "../../config/schema.js";
import { writeDemoMaterial } from "../../demo/material.js";
import { CertrotorError } from "../../errors.js";

function parseKeyType(value: string): KeyType {
  if ((KEY_TYPES as readonly string[]).includes(value)) return value as KeyType;
  throw new CertrotorError("BAD_ARGUMENT", `--key-type: expected one of ${KEY_TYPES.join(", ")}, got "${value}"`);
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("Show certrotor working on embedded defaults (no config, no cloud account needed)")
    .option("--out <dir>", "folder to write the material into", "certrotor-demo")
    .option("--key-type <type>", `client key type: ${KEY_TYPES.join(", ")}`, "rsa2048")
    .action(async (options: { out: string; keyType: string }) => {
      const keyType = parseKeyType(options.keyType);
      const dir = resolve(options.out);
      const files = await writeDemoMaterial(dir, keyType);
      process.stdout.write(`certrotor demo: wrote ${files.length} files to ${dir}\n`);
      for (const file of files) process.stdout.write(`  ${file.name.padEnd(16)} ${file.summary}\n`);
    });
}
