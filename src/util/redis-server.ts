/**
 * Starts a private redis-server: a free loopback port, no persistence unless asked, stopped by its pid.
 * `restart()` stops and starts it on the same port. The demo uses it when no Redis is configured; the
 * test harness (test/harness/redis.ts) uses it for every test that needs Redis, and builds a Redis
 * Cluster (redis-cluster.ts) and a Sentinel group (redis-sentinel.ts) out of the same pieces.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** redis://host:port, or rediss:// when it serves TLS. */
  readonly url: string;
  /** "host:port", as the cluster and sentinel forms of redis: take it. */
  readonly address: string;
  /** Its working directory (AOF, nodes.conf, sentinel.conf). */
  readonly dir: string;
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Stops and starts it on the same port (its data kept when persistent). */
  restart(): Promise<void>;
  /** Stops the server (SIGTERM), keeping its port and data for `up()`. */
  down(): Promise<void>;
  /** SIGKILLs the server (a crash: nothing flushed), keeping its port and data for `up()`. */
  kill(): Promise<void>;
  /** Starts a server stopped by `down()` or `kill()` again, on the same port. */
  up(): Promise<void>;
}

export interface RedisServerOptions {
  /** AOF persistence (appendfsync everysec), so a restart keeps the data. */
  persistent?: boolean;
  /** More redis-server arguments, given the server's port (cluster mode, replicaof, ACL, ...). */
  args?: (port: number) => readonly string[];
  /** Serve TLS only, with this certificate (the plain TCP port is off). */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

const INSTALL_HINT =
  "redis-server is not installed: install it with `apt-get update && apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)";

/** Throws at once with install instructions when redis-server is missing. */
export function assertRedisInstalled(): void {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new Error(INSTALL_HINT);
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("could not read a free port");
  return address.port;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export interface LaunchSpec {
  command: "redis-server" | "redis-sentinel";
  args: readonly string[];
  /** Printed once the server serves (at loglevel notice, which is why the level is not lower). */
  readyText: string;
  installHint: string;
}

/** Spawns a Redis process and resolves once it prints `readyText`; rejects if it exits first. */
export async function launchRedisProcess(spec: LaunchSpec): Promise<ChildProcess> {
  const child = spawn(spec.command, spec.args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(spec.readyText)) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? new Error(spec.installHint) : error),
    );
    child.once("exit", (code) =>
      reject(new Error(`${spec.command} exited with ${code} before ready: ${output.slice(-2_000)}`)),
    );
  });
  try {
    await ready;
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** Stops a Redis process by its pid with `signal` and waits for it to exit. */
export async function stopRedisProcess(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals,
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  await exited;
}

function serverArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  const listen = options.tls
    ? [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--tls-cert-file",
        options.tls.certFile,
        "--tls-key-file",
        options.tls.keyFile,
        "--tls-ca-cert-file",
        options.tls.caFile,
        "--tls-auth-clients",
        "no",
      ]
    : ["--port", String(port)];
  const args = [
    ...listen,
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    options.persistent ? "yes" : "no",
    "--maxmemory-policy",
    "noeviction",
    "--daemonize",
    "no",
    "--loglevel",
    "notice",
  ];
  // Redis's own default: a restart here is a SIGTERM, on which Redis flushes the AOF before it exits, so
  // nothing acknowledged is lost; "always" (an fsync per write) only made every queue operation slower
  if (options.persistent) args.push("--appendfsync", "everysec");
  args.push(...(options.args?.(port) ?? []));
  return args;
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisInstalled();
  const dir = mkdtempSync(join(tmpdir(), "certrotor-redis-"));
  const host = "127.0.0.1";
  const launch = (port: number): Promise<ChildProcess> =>
    launchRedisProcess({
      command: "redis-server",
      args: serverArgs(port, dir, options),
      readyText: "Ready to accept connections",
      installHint: INSTALL_HINT,
    });
  let port = await freePort(host);
  let child: ChildProcess | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      child = await launch(port);
      break;
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort(host); // another process took the port between probe and bind
    }
  }
  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    child = undefined;
    await stopRedisProcess(current, signal);
  };
  return {
    host,
    port,
    url: `${options.tls ? "rediss" : "redis"}://${host}:${port}`,
    address: `${host}:${port}`,
    dir,
    pid: () => child?.pid,
    stop: async () => {
      await stopChild("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild("SIGTERM");
      child = await launch(port);
    },
    down: () => stopChild("SIGTERM"),
    kill: () => stopChild("SIGKILL"),
    up: async () => {
      if (child) return;
      child = await launch(port);
    },
  };
}
