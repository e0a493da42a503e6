import { resolve } from "node:path";
import type { Command } from "commander";
import { writeKit } from "../../sandbox/kit.js";
import { KEY_TYPES, type KeyType } from "../../config/schema.js";
import { type DemoReport, runDemo } from "../../demo/run.js";
import { startWorker } from "../../../jobs/worker.js";
import { ensureWritableDirectory } from "../../util/dirs.js";
import { enumArg, redisUrlArg } from "../args.js";
import { makeLogger } from "../context.js";

interface DemoFlags {
  out?: string;
  keyType: KeyType;
  json?: boolean;
  serve?: boolean;
  redisUrl?: string;
}

function printTable(report: DemoReport): void {
  const rows = [
    ["", "before", "after"],
    [
      "fingerprint",
      `${report.before.fingerprint.slice(0, 24)}…`,
      `${report.after.fingerprint.slice(0, 24)}…`,
    ],
    ["notAfter", report.before.notAfter, report.after.notAfter],
    [
      "bound slots",
      String(report.before.boundFingerprints.length),
      String(report.after.boundFingerprints.length),
    ],
    ["token call", String(report.before.tokenStatus), String(report.after.tokenStatus)],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) process.stdout.write(`  ${row.map((c, i) => c.padEnd(widths[i]!)).join("  ")}\n`);
}

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "Run the whole product on embedded defaults: sandbox bank, private CA, file store; scan → rotate → verify → promote → retire",
    )
    .option(
      "--out <dir>",
      "write the resulting material (bank-ca.pem, ca.pem, client.pem, client.key, client.pfx, client.pfx.pass, sandbox.json)",
    )
    .option("--key-type <type>", `client key type: ${KEY_TYPES.join(", ")}`, enumArg(KEY_TYPES), "rsa2048")
    .option("--json", "print the before/after report as one JSON document")
    .option(
      "--serve",
      "keep the bank sandbox running after the demo (Ctrl-C to stop), to try the files with curl",
    )
    .option(
      "--redis-url <url>",
      "use this Redis for the queue (default: $REDIS_URL, else a local redis-server if installed, else inline)",
      redisUrlArg,
    )
    .action(async (flags: DemoFlags) => {
      const keyType = flags.keyType;
      // a folder that cannot be written fails now, not after the whole demo ran
      if (flags.out) await ensureWritableDirectory("--out", resolve(flags.out), 0o755);
      const say = flags.json ? () => undefined : (line: string) => void process.stdout.write(`${line}\n`);
      const redisUrl = flags.redisUrl ?? process.env.REDIS_URL;
      const result = await runDemo({
        keyType,
        logger: makeLogger(program, undefined, "warn"),
        say,
        startWorker,
        ...(redisUrl ? { redisUrl } : {}),
      });
      try {
        const { report, world, material } = result;
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          say("before/after (token calls made after the rotation finished):");
          printTable(report);
        }
        if (flags.out) {
          const dir = resolve(flags.out);
          const files = await writeKit(
            dir,
            {
              ca: { certPem: world.caPem, keyPem: "" },
              client: {
                certPem: material.certPem,
                keyPem: material.keyPem,
                pfx: Buffer.from(material.pfxBase64 ?? "", "base64"),
                pfxPassphrase: material.pfxPassphrase ?? "",
              },
              credential: { clientId: world.clientId, clientSecret: result.clientSecret, allowedIps: [] },
            },
            world.sandbox,
          );
          say(`wrote ${files.map((f) => f.name).join(", ")} to ${dir}`);
        }
        const ok =
          report.after.tokenStatus === 200 &&
          report.before.tokenStatus === 401 &&
          report.after.boundFingerprints.length === 1;
        if (flags.serve) {
          say(`sandbox still serving on ${world.sandbox.url}; Ctrl-C to stop`);
          await new Promise<void>((done) => {
            process.once("SIGINT", () => done());
            process.once("SIGTERM", () => done());
          });
        }
        process.exitCode = ok ? 0 : 2;
      } finally {
        await result.stop();
      }
    });
}
