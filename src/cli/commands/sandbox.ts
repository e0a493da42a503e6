/**
 * `certrotor sandbox [serve] --out DIR [--port N] [--host H] [--tls-max 1.2|1.3] [--allow-ip CIDR...] [--seed FILE]`
 * Runs the bank sandbox with an institution CA and one credential whose client certificate is bound,
 * writes the files a person needs to call it (PEM, PFX, connection details) and serves until
 * SIGINT/SIGTERM. Secrets are only in files (mode 0600), never printed.
 */
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { KEY_TYPES, type KeyType } from "../../config/schema.js";
import { CertrotorError } from "../../errors.js";
import { parseAllowEntry } from "../../sandbox/ip.js";
import { enumArg, portArg } from "../args.js";
import { createSandboxKit, writeKit } from "../../sandbox/kit.js";
import {
  loadSeedFile,
  type SandboxHandle,
  type SandboxOptions,
  startSandbox,
  TOKEN_PATH,
} from "../../sandbox/index.js";
import { registerPortal } from "./sandbox-portal.js";

interface SandboxFlags {
  out?: string;
  port: number;
  host: string;
  tlsMax: "1.2" | "1.3";
  allowIp?: string[];
  seed?: string;
  keyType: KeyType;
}

interface Parsed {
  out: string;
  port: number;
  host: string;
  tlsMaxVersion: "TLSv1.2" | "TLSv1.3";
  allowIps: string[] | undefined;
  seed: string | undefined;
  keyType: KeyType;
}

const bad = (message: string): CertrotorError => new CertrotorError("BAD_ARGUMENT", message);

/** --allow-ip's values, each checked as the sandbox will read it (commander calls this once per value). */
function allowIpArg(value: string, previous: string[] | undefined): string[] {
  const parsed = parseAllowEntry(value);
  if (!parsed.ok) throw new InvalidArgumentError(`expected an IP address or CIDR block, got "${value}"`);
  return [...(previous ?? []), parsed.value];
}

function parseFlags(flags: SandboxFlags): Parsed {
  if (!flags.out) throw bad("--out <dir> is required: the folder to write the client files into");
  const tls = { "1.2": "TLSv1.2", "1.3": "TLSv1.3" } as const;
  return {
    out: resolve(flags.out),
    port: flags.port,
    host: flags.host,
    tlsMaxVersion: tls[flags.tlsMax],
    allowIps: flags.allowIp,
    seed: flags.seed,
    keyType: flags.keyType,
  };
}

async function start(parsed: Parsed, options: SandboxOptions): Promise<SandboxHandle> {
  try {
    return await startSandbox({
      ...options,
      host: parsed.host,
      port: parsed.port,
      tlsMaxVersion: parsed.tlsMaxVersion,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw bad(`--host/--port: cannot listen on ${parsed.host}:${parsed.port} (${code})`);
    }
    throw error;
  }
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolveSignal(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

function printBanner(
  sandbox: SandboxHandle,
  dir: string,
  files: Array<{ name: string; secret: boolean; summary: string }>,
): void {
  const out = (line = ""): boolean => process.stdout.write(`${line}\n`);
  // Single-quoted for POSIX shells, so a path with spaces or $ pastes as it is.
  const at = (name: string): string => `'${resolve(dir, name).replace(/'/g, "'\\''")}'`;
  out(`certrotor sandbox listening on ${sandbox.url}`);
  out(`files in ${dir}:`);
  for (const file of files) out(`  ${file.name.padEnd(20)} ${file.secret ? "(0600) " : ""}${file.summary}`);
  out("get a token (PEM):");
  out(
    `  curl -X POST ${sandbox.url}${TOKEN_PATH} --cert ${at("client.pem")} --key ${at("client.key")} --cacert ${at("bank-ca.pem")} -H "Content-Type: application/json" -d @${at("token-request.json")}`,
  );
  out("get a token (PFX):");
  out(
    `  curl -X POST ${sandbox.url}${TOKEN_PATH} --cert-type P12 --cert ${at("client.pfx")}:"$(cat ${at("client.pfx.pass")})" --cacert ${at("bank-ca.pem")} -H "Content-Type: application/json" -d @${at("token-request.json")}`,
  );
  out(`portal (a person binding, unbinding, signing): ${sandbox.portalUrl}`);
  out(`  certrotor sandbox portal bind|unbind|sign --sandbox ${at("")} ...`);
  out("stop with Ctrl-C (SIGINT) or SIGTERM");
}

export function register(program: Command): void {
  // `sandbox [serve]` runs the bank, `sandbox portal ...` plays the person at its portal. The server's
  // flags live on the default subcommand so that `portal sign --out` is the portal's own --out.
  const sandbox = program
    .command("sandbox")
    .description("The bank sandbox: run it (the default, `serve`), or act at its portal (`portal`)");
  registerPortal(sandbox);
  sandbox
    .command("serve", { isDefault: true })
    .description(
      "Run the bank sandbox (mTLS token endpoints, protected call, CORE admin API, portal) with a ready client",
    )
    .option("--out <dir>", "folder to write the client certificate, key, PFX and connection details into")
    .option("--port <n>", "listen port (0 = a free port)", portArg, 8443)
    .option("--host <address>", "listen address", "127.0.0.1")
    .option(
      "--tls-max <version>",
      "highest TLS version: 1.2 (TLS 1.2 only, as seed 002's bank) or 1.3",
      enumArg(["1.2", "1.3"] as const),
      "1.3",
    )
    .option("--allow-ip <cidr...>", "source IPs allowed for the credential (default: loopback)", allowIpArg)
    .option("--seed <file>", "JSON file of further credentials to load")
    .option(
      "--key-type <type>",
      `client and CA key type: ${KEY_TYPES.join(", ")}`,
      enumArg(KEY_TYPES),
      "rsa2048",
    )
    .showHelpAfterError(false)
    .action(async (flags: SandboxFlags) => {
      const parsed = parseFlags(flags);
      const extra = parsed.seed ? await loadSeedFile(parsed.seed) : [];
      const kit = await createSandboxKit({
        keyType: parsed.keyType,
        ...(parsed.allowIps ? { allowedIps: parsed.allowIps } : {}),
      });
      const sandbox = await start(parsed, {
        clientCaPems: [kit.ca.certPem],
        credentials: [kit.credential, ...extra],
        onRequest: (entry) => {
          const who = entry.clientId ? ` client=${entry.clientId}` : "";
          const why = entry.reason ? ` (${entry.reason})` : "";
          process.stdout.write(`${entry.at} ${entry.method} ${entry.path} ${entry.status}${who}${why}\n`);
        },
      });
      let files: Awaited<ReturnType<typeof writeKit>>;
      try {
        files = await writeKit(parsed.out, kit, sandbox);
      } catch (error) {
        await sandbox.stop();
        if (error instanceof CertrotorError) throw error;
        const code = (error as NodeJS.ErrnoException).code ?? "error";
        throw new CertrotorError(
          "BAD_ARGUMENT",
          `--out: cannot write the files into ${parsed.out} (${code})`,
          { cause: error },
        );
      }
      printBanner(sandbox, parsed.out, files);
      const signal = await waitForSignal();
      await sandbox.stop();
      process.stdout.write(`certrotor sandbox stopped (${signal})\n`);
    });
}
