/**
 * The queue section's CPU floor for one key type: `processes` Node processes, each making `count` key
 * pairs, CSRs and CA signatures back to back (the crypto one rotation cannot avoid), started together.
 * Rate = all of them ÷ (last end − first start), from the children's own clocks (epoch ms), so process
 * start-up and module loading are outside the measured span, as a worker's are.
 *
 *   node --import tsx bench/queue-floor.ts <keyType> <count>   (a child: prints "ready", waits for a
 *   line on stdin, prints `{"start":…,"end":…}`)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { KeyType } from "../src/config/schema.js";
import { createCa, createCsr, generateKeyPair, signClientCsr } from "../src/crypto/index.js";

const DAY = 86_400_000;
const SELF = fileURLToPath(import.meta.url);

async function child(keyType: KeyType, count: number): Promise<void> {
  const ca = await createCa({ subject: "CN=Bench floor CA,C=BR", keyType: "p256", validityMs: DAY });
  const once_ = async (): Promise<void> => {
    const { keyPem } = await generateKeyPair(keyType);
    const csrPem = await createCsr({ keyPem, subject: "CN=floor,O=certrotor bench,C=BR", sans: [] });
    await signClientCsr({ csrPem, caCertPem: ca.certPem, caKeyPem: ca.keyPem, validityMs: 90 * DAY });
  };
  await once_(); // warm-up (JIT), outside the span
  process.stdout.write("ready\n");
  await once(createInterface({ input: process.stdin }), "line");
  const start = performance.timeOrigin + performance.now();
  for (let i = 0; i < count; i++) await once_();
  const end = performance.timeOrigin + performance.now();
  process.stdout.write(`${JSON.stringify({ start, end })}\n`);
}

function lines(proc: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
}

/** Keygen + CSR + sign per second over `processes` processes, `count` each. */
export async function floorRate(keyType: KeyType, processes: number, count: number): Promise<number> {
  const procs = Array.from({ length: processes }, () =>
    spawn(process.execPath, ["--import", "tsx", SELF, keyType, String(count)], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  try {
    const outs = procs.map(lines);
    for (const out of outs)
      if ((await out.next()).value !== "ready") throw new Error("floor child: no ready");
    for (const proc of procs) proc.stdin!.write("go\n");
    const spans = await Promise.all(
      outs.map(async (out) => JSON.parse(String((await out.next()).value)) as { start: number; end: number }),
    );
    const start = Math.min(...spans.map((s) => s.start));
    const end = Math.max(...spans.map((s) => s.end));
    return (processes * count * 1000) / (end - start);
  } finally {
    for (const proc of procs) {
      proc.stdin!.end();
      if (proc.exitCode === null) await once(proc, "exit");
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await child(process.argv[2] as KeyType, Number(process.argv[3]));
}
