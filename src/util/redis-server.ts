/**
 * Starts a private redis-server: a free loopback port, no persistence unless asked, stopped by its pid.
 * `restart()` stops and starts it on the same port. The demo uses it when no Redis is configured; the
 * test harness (test/harness/redis.ts) uses it for every test that needs Redis.
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
  readonly url: string;
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Stops and starts it on the same port (its data kept when persistent). */
  restart(): Promise<void>;
  /** Stops the server, keeping its port and data for `up()`. */
  down(): Promise<void>;
  /** Starts a server stopped by `down()` again, on the same port. */
  up(): Promise<void>;
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

async function launch(port: number, dir: string, persistent: boolean): Promise<ChildProcess> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    persistent ? "yes" : "no",
    "--maxmemory-policy",
    "noeviction",
    "--daemonize",
    "no",
    "--loglevel",
    "notice",
  ];
  // Redis's own default: a restart here is a SIGTERM, on which Redis flushes the AOF before it exits, so
  // nothing acknowledged is lost; "always" (an fsync per write) only made every queue operation slower
  if (persistent) args.push("--appendfsync", "everysec");
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? new Error(INSTALL_HINT) : error),
    );
    child.once("exit", (code) =>
      reject(new Error(`redis-server exited with ${code} before ready: ${output}`)),
    );
  });
  // "Ready to accept connections" is printed at loglevel notice, which is why the level is not lower.
  await ready;
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

export async function startRedis(options: { persistent?: boolean } = {}): Promise<RedisServer> {
  assertRedisInstalled();
  const dir = mkdtempSync(join(tmpdir(), "certrotor-redis-"));
  const host = "127.0.0.1";
  let port = await freePort(host);
  let child: ChildProcess | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      child = await launch(port, dir, options.persistent ?? false);
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
      port = await freePort(host); // another process took the port between probe and bind
    }
  }
  const stopChild = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = once(current, "exit");
    current.kill("SIGTERM");
    await exited;
  };
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    pid: () => child?.pid,
    stop: async () => {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild();
      child = await launch(port, dir, options.persistent ?? false);
    },
    down: stopChild,
    up: async () => {
      if (child) return;
      child = await launch(port, dir, options.persistent ?? false);
    },
  };
}
