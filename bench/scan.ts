/**
 * Scan section: `scan` (store only, as `certrotor scan --no-bank`) of 10,000 credentials discovered by
 * prefix in the Vault emulator, through the product's Vault store (node-vault), beside a bare loop making
 * the same HTTP reads with plain fetch at the same concurrency: one LIST of the folder, then per credential
 * GET `secret/data/<path>` (current), and GET `secret/data/<path>.pending` for the credentials whose
 * pending sibling the LIST shows (one in PENDING_EVERY holds one, a rotation's leftover), JSON parsed. The
 * bare loop parses no certificate; the scan parses each one (native X509Certificate) and runs the renewal
 * policy. Before the listing said which credentials have a pending (ListPage.pending), the scan read
 * `<path>.pending` (a 404) for every credential.
 *
 *   node --import tsx bench/scan.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import pLimit from "p-limit";
import { configSchema } from "../src/config/schema.js";
import { createLogger } from "../src/observability/logger.js";
import { scan } from "../src/rotation/scan.js";
import { createRuntime, type Runtime } from "../src/runtime.js";
import { encodeMaterial } from "../src/stores/material.js";
import { startVaultEmulator, type VaultEmulator } from "../test/emulators/vault/server.js";
import { aCa, aClientCert, type ClientCert, days } from "../test/fixtures/pki.js";
import { type BenchRow, median, quick, row } from "./lib.js";

const CREDENTIALS = quick ? 1_000 : 10_000;
/** Distinct certificates reused across the credentials (each scan read parses one). */
const DISTINCT_CERTS = quick ? 50 : 300;
const RUNS = quick ? 2 : 3;
/** The scan's default (`scan --concurrency`), used by both sides. */
const CONCURRENCY = 16;
const SEED_CONCURRENCY = 32;
const PREFIX = "bench/";
/** One credential in this many has pending material beside it (left by a rotation that is not running). */
const PENDING_EVERY = 100;

const log = (line: string): void => void process.stderr.write(`bench: scan: ${line}\n`);

/** Writes `count` credentials at bench/cred-<i> over HTTP, as a consumer's tooling would. */
export async function seed(vault: VaultEmulator, count: number): Promise<void> {
  const now = new Date();
  const ca = await aCa({ now });
  const certs: ClientCert[] = [];
  for (let i = 0; i < DISTINCT_CERTS; i++) {
    certs.push(await aClientCert({ ca, now, notAfter: new Date(now.getTime() + days(5 + (i % 80))) }));
  }
  const limit = pLimit(SEED_CONCURRENCY);
  const write = async (i: number): Promise<void> => {
    const cert = certs[i % certs.length]!;
    const doc = encodeMaterial({
      clientId: `client-${i}`,
      clientSecret: randomBytes(16).toString("hex"),
      certPem: cert.certPem,
      chainPem: ca.certPem,
      keyPem: cert.keyPem,
      fingerprint: cert.fingerprint,
      notAfter: cert.notAfter.toISOString(),
    });
    const put = async (path: string, data: object): Promise<void> => {
      const response = await fetch(`${vault.url}/v1/secret/data/${path}`, {
        method: "POST",
        headers: { "X-Vault-Token": vault.rootToken, "Content-Type": "application/json" },
        body: JSON.stringify({ data }),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`seeding ${path}: ${response.status}`);
    };
    await put(`${PREFIX}cred-${i}`, doc);
    if (i % PENDING_EVERY === 0) await put(`${PREFIX}cred-${i}.pending`, { ...doc, rotationId: `left-${i}` });
  };
  await Promise.all(Array.from({ length: count }, (_, i) => limit(() => write(i))));
}

async function runtimeFor(vault: VaultEmulator, stateDir: string): Promise<Runtime> {
  const config = configSchema.parse({
    stateDir,
    stores: {
      main: { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } },
    },
    // never called (store-only scan); named so the config is complete as `certrotor scan` would load it
    banks: { bank: { kind: "banking-api", url: "https://bank.invalid", adminApiKey: "unused" } },
    issuers: { ca: { kind: "local-ca", store: "main", path: "ca/issuing" } },
    discovery: [{ store: "main", prefix: PREFIX, bank: "bank", issuer: "ca", keyType: "p256" }],
    log: { level: "silent" },
  });
  return createRuntime(config, { logger: createLogger({ level: "silent" }) });
}

const pendings = (): number => Math.ceil(CREDENTIALS / PENDING_EVERY);

interface Timed {
  ms: number;
  cpuMs: number;
}

async function timed(fn: () => Promise<void>): Promise<Timed> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

async function ours(runtime: Runtime): Promise<void> {
  const report = await scan({
    config: runtime.config,
    stores: runtime.stores,
    banks: runtime.banks,
    journal: runtime.journal,
    now: () => new Date(),
    concurrency: CONCURRENCY,
    skipBank: true,
  });
  const leftovers = report.entries.filter((e) => e.drift.some((d) => d.kind === "leftover-pending")).length;
  if (report.entries.length !== CREDENTIALS || report.counts.broken > 0 || leftovers !== pendings())
    throw new Error(
      `bench scan: ${report.entries.length} entries, ${report.counts.broken} broken, ${leftovers} leftover pendings`,
    );
}

/** The same HTTP reads with plain fetch (keep-alive), no certificate parsing. */
async function bare(vault: VaultEmulator): Promise<void> {
  const headers = { "X-Vault-Token": vault.rootToken };
  const get = async (path: string, expect: number): Promise<unknown> => {
    const response = await fetch(`${vault.url}/v1/secret/data/${path}`, { headers });
    const body: unknown = await response.json();
    if (response.status !== expect) throw new Error(`bare read ${path}: ${response.status}`);
    return body;
  };
  const listed = await fetch(`${vault.url}/v1/secret/metadata/${PREFIX}`, { method: "LIST", headers });
  const all = new Set(((await listed.json()) as { data: { keys: string[] } }).data.keys);
  const keys = [...all].filter((key) => !key.endsWith(".pending"));
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        await get(`${PREFIX}${key}`, 200);
        if (all.has(`${key}.pending`)) await get(`${PREFIX}${key}.pending`, 200);
      }),
    ),
  );
  if (keys.length !== CREDENTIALS) throw new Error(`bare list: ${keys.length} keys`);
}

function rowsOf(ours: Timed[], bare: Timed[], requests: number): BenchRow[] {
  const ms = (list: Timed[]): number => median(list.map((t) => t.ms));
  const cpuPer = (list: Timed[]): number => median(list.map((t) => t.cpuMs)) / CREDENTIALS;
  const size = CREDENTIALS.toLocaleString("en-US");
  return [
    row({
      section: "scan",
      op: `scan ${size} credentials, Vault emulator, store only`,
      value: (CREDENTIALS * 1000) / ms(ours),
      baseline: (CREDENTIALS * 1000) / ms(bare),
      baselineName: `bare fetch of the same reads, ${CONCURRENCY} in flight`,
      unit: "ops/s",
      n: RUNS,
      notes: `credentials/s, median of ${RUNS} full scans (${ms(ours).toFixed(0)} vs ${ms(bare).toFixed(0)} ms); one scan made ${requests} HTTP requests, the bare loop ${CREDENTIALS + pendings() + 1}; emulator in this process`,
    }),
    row({
      section: "scan",
      op: `CPU per credential, scan of ${size} (process, emulator included)`,
      value: cpuPer(ours),
      baseline: cpuPer(bare),
      baselineName: "CPU per credential, bare fetch loop",
      unit: "ms/op",
      n: RUNS,
      notes: "user + system CPU of the bench process, median over the runs: less sensitive to other load",
    }),
  ];
}

export async function run(): Promise<BenchRow[]> {
  const vault = await startVaultEmulator();
  const stateDir = await mkdtemp(join(tmpdir(), "certrotor-bench-scan-"));
  let runtime: Runtime | undefined;
  try {
    const seeding = performance.now();
    await seed(vault, CREDENTIALS);
    log(`seeded ${CREDENTIALS} credentials in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
    const store = await runtimeFor(vault, stateDir);
    runtime = store;
    const oursRuns: Timed[] = [];
    const bareRuns: Timed[] = [];
    let requests = 0;
    // Alternate the two so load changes on the machine hit both alike.
    for (let i = 0; i < RUNS; i++) {
      const before = vault.counters.requests;
      oursRuns.push(await timed(() => ours(store)));
      requests = vault.counters.requests - before;
      bareRuns.push(await timed(() => bare(vault)));
      log(
        `run ${i + 1}/${RUNS}: scan ${oursRuns.at(-1)!.ms.toFixed(0)} ms, bare ${bareRuns.at(-1)!.ms.toFixed(0)} ms`,
      );
    }
    return rowsOf(oursRuns, bareRuns, requests);
  } finally {
    await runtime?.close();
    await vault.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op}: ${r.value.toFixed(2)} ${r.unit}; ${r.baselineName}: ${r.baseline.toFixed(2)}; ratio ${r.speedup.toFixed(2)}`,
    );
    if (r.notes) console.log(`  ${r.notes}`);
  }
}
