import type { Command } from "commander";
import { loadConfig } from "../../config/load.js";
import { isLoopbackHost } from "../../config/schema.js";
import { startConsole } from "../../console/server.js";
import { hashPassword } from "../../console/password.js";
import { CertrotorError } from "../../errors.js";
import { createProducer } from "../../queue/producer.js";
import { closeConnection } from "../../redis/connection.js";
import { createRuntime } from "../../runtime.js";
import { portArg } from "../args.js";
import { addConfigOption, makeLogger } from "../context.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Resolves on the first SIGTERM or SIGINT (a second one gets the default action). */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

export function register(program: Command): void {
  const command = addConfigOption(
    program
      .command("console")
      .description(
        "Serve the ops console (fleet, timeline, credentials, actions, /calendar.ics) from the shared state",
      )
      .option("--port <n>", "port, 0 for a free one (default: console.port from config)", portArg)
      .option("--host <address>", "address to bind (default: console.host, 127.0.0.1)"),
  ).action(async (options: { config: string; port?: number; host?: string }) => {
    const config = await loadConfig(options.config);
    const host = options.host ?? config.console.host;
    if (config.console.users.length === 0) {
      throw new CertrotorError(
        "CONFIG_INVALID",
        `${options.config}: console.users is empty: nobody could log in`,
        {
          hint: "add { name, role, passwordHash } entries; make a hash with `certrotor console hash-password`",
        },
      );
    }
    if (!config.console.tls && config.console.insecureHttp !== true && !isLoopbackHost(host)) {
      throw new CertrotorError(
        "BAD_ARGUMENT",
        `--host ${host}: plain HTTP on a host that is not loopback sends passwords in clear text`,
        {
          hint: "set console.tls (certFile, keyFile), or console.insecureHttp: true",
        },
      );
    }
    const logger = makeLogger(program, config);
    const runtime = await createRuntime(config, { logger, role: "worker" });
    const connection = runtime.redis?.connect("state");
    connection?.on("error", () => undefined);
    const producer =
      connection && runtime.redis ? createProducer(connection, runtime.redis.settings.prefix) : undefined;
    try {
      const stop = stopSignal();
      const handle = await startConsole(
        { runtime, logger, ...(producer ? { producer } : {}) },
        options.port ?? config.console.port,
        host,
      );
      process.stderr.write(`certrotor console: listening on ${handle.url}; Ctrl-C to stop\n`);
      await stop;
      await handle.close();
    } finally {
      await producer?.close();
      if (connection) await closeConnection(connection);
      await runtime.close();
    }
  });
  command
    .command("hash-password")
    .description("Read a password on stdin and print its scrypt hash for console.users[].passwordHash")
    .action(async () => {
      if (process.stdin.isTTY) process.stderr.write("password (then Enter and Ctrl-D): ");
      const password = (await readStdin()).replace(/\r?\n$/, "");
      if (password.length < 8) {
        throw new CertrotorError(
          "BAD_ARGUMENT",
          "console hash-password: the password on stdin is shorter than 8 characters",
          {
            hint: "printf '%s' \"$PASSWORD\" | certrotor console hash-password",
          },
        );
      }
      process.stdout.write(`${await hashPassword(password)}\n`);
    });
}
