/**
 * `npm run emulator -- aws [--port 4566] [--host 127.0.0.1] [--region us-east-1] [--account-id 123456789012]
 *   [--access-key-id ID --secret-access-key KEY] [--error-rate 0.1] [--throttle-rate 0.1] [--drop-rate 0.05]
 *   [--latency-ms 50] [--stale-read-ms 500] [--stale-read-rate 0.5] [--seed 1]`
 * Serves until SIGINT/SIGTERM. A bad flag is a one-line error and exit code 2.
 */
import type { FaultOptions } from "./faults.js";
import { type AwsEmulatorOptions, startAwsEmulator } from "./server.js";

const STRING_FLAGS = ["host", "region", "account-id", "access-key-id", "secret-access-key"] as const;
const NUMBER_FLAGS = [
  "port",
  "error-rate",
  "throttle-rate",
  "drop-rate",
  "latency-ms",
  "stale-read-ms",
  "stale-read-rate",
  "seed",
] as const;
type Flag = (typeof STRING_FLAGS)[number] | (typeof NUMBER_FLAGS)[number];

class UsageError extends Error {}

function parseFlags(argv: string[]): Partial<Record<Flag, string>> {
  const flags: Partial<Record<Flag, string>> = {};
  const known = new Set<string>([...STRING_FLAGS, ...NUMBER_FLAGS]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith("--") ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    if (name === undefined || !known.has(name)) throw new UsageError(`unknown option "${arg}"`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new UsageError(`option --${name} needs a value`);
    flags[name as Flag] = value;
  }
  return flags;
}

function number(
  flags: Partial<Record<Flag, string>>,
  name: Flag,
  min: number,
  max: number,
): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`option --${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function optionsFromArgs(argv: string[]): AwsEmulatorOptions {
  const flags = parseFlags(argv);
  const accessKeyId = flags["access-key-id"];
  const secretAccessKey = flags["secret-access-key"];
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new UsageError("--access-key-id and --secret-access-key go together");
  }
  const faults: FaultOptions = {};
  const rates = {
    errorRate: "error-rate",
    throttleRate: "throttle-rate",
    dropRate: "drop-rate",
    staleReadRate: "stale-read-rate",
  } as const;
  for (const [key, flag] of Object.entries(rates)) {
    const rate = number(flags, flag, 0, 1);
    if (rate !== undefined) faults[key as keyof typeof rates] = rate;
  }
  const latencyMs = number(flags, "latency-ms", 0, 60_000);
  const staleReadMs = number(flags, "stale-read-ms", 0, 600_000);
  if (staleReadMs !== undefined) faults.staleReadMs = staleReadMs;
  const seed = number(flags, "seed", 0, 2 ** 32 - 1);
  if (latencyMs !== undefined) faults.latencyMs = latencyMs;
  if (seed !== undefined) faults.seed = seed;
  return {
    port: number(flags, "port", 0, 65_535) ?? 4566,
    host: flags.host ?? "127.0.0.1",
    ...(flags.region !== undefined ? { region: flags.region } : {}),
    ...(flags["account-id"] !== undefined ? { accountId: flags["account-id"] } : {}),
    // LocalStack's convention when no keys are given: the pair test/test.
    credentials: [{ accessKeyId: accessKeyId ?? "test", secretAccessKey: secretAccessKey ?? "test" }],
    faults,
  };
}

export async function serveFromArgs(argv: string[]): Promise<void> {
  let options: AwsEmulatorOptions;
  try {
    options = optionsFromArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`emulator aws: ${error.message}`);
    process.exit(2);
  }
  const emulator = await startAwsEmulator(options);
  // The access key id is printed so a client can be pointed at it; the secret key never is.
  console.log(
    `aws secrets manager emulator listening on ${emulator.url} (region ${emulator.region}, access key id ${emulator.credentials.accessKeyId})`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await emulator.stop();
}
