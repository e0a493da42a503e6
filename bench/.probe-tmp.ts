import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { startRedis } from "/work/wt/scan-mem/src/util/redis-server.js";
import { startVaultEmulator } from "/work/wt/scan-mem/test/emulators/vault/server.js";
import { spawn } from "node:child_process";
const redis = await startRedis();
const vault = await startVaultEmulator();
const config = {
  stateDir: "/tmp/memprobe/state",
  stores: { main: { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } } },
  banks: {
    bank: {
      kind: "oauth2-mtls",
      url: "https://bank.invalid",
      tokenPath: "/oauth/token",
      registration: "none",
    },
  },
  issuers: { ca: { kind: "local-ca", store: "main", path: "ca/issuing" } },
  discovery: [{ store: "main", prefix: "bench/", bank: "bank", issuer: "ca", keyType: "p256" }],
  redis: { url: redis.url, prefix: "{probe}" },
  worker: { port: 0 },
  schedules: { scan: "0 0 0 1 1 *", retire: "0 0 0 1 1 *" },
  log: { level: "warn" },
};
await writeFile("/tmp/memprobe/config.json", JSON.stringify(config));
const child = spawn(
  process.execPath,
  [
    ...(process.env.NODEFLAGS?.split(" ").filter(Boolean) ?? []),
    "/work/wt/scan-mem/dist/src/cli/main.js",
    "worker",
    "--config",
    "/tmp/memprobe/config.json",
  ],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CERTROTOR_FROM_SOURCE: "0" } },
);
let out = "";
await new Promise<void>((resolve) => {
  const on = (c: Buffer) => {
    out += c;
    if (out.includes("listening")) resolve();
  };
  child.stdout!.on("data", on);
  child.stderr!.on("data", on);
});
await new Promise((r) => setTimeout(r, 2000));

console.log(
  out
    .split("\n")
    .filter((l) => l.startsWith("PKG"))
    .join(" "),
);
console.log("RSS", /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]);
child.kill();
await redis.stop();
await vault.stop();
