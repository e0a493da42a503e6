/**
 * `npm run emulator -- vault [--port 8200] [--host 127.0.0.1] [--root-token TOKEN] [--namespace ns1]...`:
 * serves the Vault emulator until SIGINT/SIGTERM, like `vault server -dev`.
 */
import { startVaultEmulator, type VaultEmulatorOptions } from "./server.js";

const USAGE = "usage: npm run emulator -- vault [--port N] [--host H] [--root-token T] [--namespace NS]...";

function fail(message: string): never {
  console.error(`vault emulator: ${message} (${USAGE})`);
  process.exit(2);
}

export function parseArgs(argv: string[]): VaultEmulatorOptions {
  const options: VaultEmulatorOptions = { port: 8200, namespaces: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) fail(`${flag} needs a value`);
    i++;
    switch (flag) {
      case "--port": {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          fail(`--port "${value}" is not a port number`);
        options.port = port;
        break;
      }
      case "--host":
        options.host = value;
        break;
      case "--root-token":
        if (value.trim() === "") fail("--root-token is empty");
        options.rootToken = value;
        break;
      case "--namespace":
        options.namespaces!.push(value);
        break;
      default:
        fail(`unknown flag "${flag}"`);
    }
  }
  return options;
}

export async function serveFromArgs(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  const vault = await startVaultEmulator(options);
  console.log(`Vault emulator listening on ${vault.url} (KV v2 at secret/, PKI at pki/)`);
  // Like `vault server -dev`, show a generated root token; a given one is already known to the caller.
  if (!options.rootToken) console.log(`Root token: ${vault.rootToken}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await vault.stop();
}
