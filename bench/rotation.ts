/**
 * Rotation section: end-to-end `--inline` rotations (runRotation, the saga the CLI runs) on the file store
 * with the local CA against the bank sandbox, beside the same run's primitive costs of one rotation:
 * key generation + CSR + CA sign + PFX build + two mTLS token calls on new connections (the bank
 * adapter's requestToken). ratio = primitive ms / rotation ms (< 1: what the saga adds), or, for
 * throughput, rotations/s / primitive chains/s at the same concurrency. And beside the seeds' hand
 * rotation of the same credential (bench/recipe/rotate.sh: openssl genpkey, req, x509 -req, pkcs12 -export,
 * the curl token call), one script run per rotation, in the same rounds: ratio = recipe ms / rotation ms.
 *
 *   node --import tsx bench/rotation.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { KeyType } from "../src/config/schema.js";
import {
  buildPfx,
  createCsrFromCertificate,
  generateKeyPair,
  randomPassphrase,
  signClientCsr,
} from "../src/crypto/index.js";
import { createLogger } from "../src/observability/logger.js";
import type { RotationObserver } from "../src/rotation/context.js";
import type { ResolvedCredential } from "../src/rotation/credentials.js";
import { runRotation } from "../src/rotation/run.js";
import { createRuntime, type Runtime } from "../src/runtime.js";
import { DOC_SUFFIX, encodePath } from "../src/stores/file-names.js";
import { aWorld, type TestWorld } from "../test/fixtures/world.js";
import { type BenchRow, median, quick, row } from "./lib.js";
import { type DurableWrites, prepareDurableWrites } from "./durable-writes.js";
import { prepareRecipe, type Recipe } from "./recipe/recipe.js";

const DAY = 86_400_000;
const CONCURRENCY = [1, 2, 4] as const;
/** Rounds × rotations per round, per key type; RSA keygen spreads 10–20× (p25 78, median 110, p75 171 ms here), so 64 of each: a 32-sample median moved ±20 ms between runs. */
const SIZES: Record<"p256" | "rsa2048", { rounds: number; perRound: number }> = quick
  ? { p256: { rounds: 2, perRound: 8 }, rsa2048: { rounds: 2, perRound: 4 } }
  : { p256: { rounds: 4, perRound: 16 }, rsa2048: { rounds: 4, perRound: 16 } };
const PRIMITIVES = ["keygen", "csr", "sign", "pfx", "token1", "token2"] as const;
type Primitive = (typeof PRIMITIVES)[number];

const log = (line: string): void => void process.stderr.write(`bench: rotation: ${line}\n`);

/** Times each saga step of each rotation from the saga's step events (as `--inline` prints them). */
class StepClock {
  private readonly byRotation = new Map<string, Map<string, number>>();

  readonly observe: RotationObserver = (event) => {
    if (event.kind !== "step-finished") return;
    const steps = this.byRotation.get(event.rotationId) ?? new Map<string, number>();
    steps.set(event.step, (steps.get(event.step) ?? 0) + event.ms);
    this.byRotation.set(event.rotationId, steps);
  };

  /** ms per step of one finished rotation (and forgets it). */
  take(rotationId: string): Map<string, number> {
    const steps = this.byRotation.get(rotationId) ?? new Map<string, number>();
    this.byRotation.delete(rotationId);
    return steps;
  }
}

interface Bench {
  world: TestWorld;
  runtime: Runtime;
  clock: StepClock;
  credentials: ResolvedCredential[];
  chain: (times?: Record<Primitive, number[]>) => Promise<void>;
  recipe: Recipe;
  durable: DurableWrites;
}

async function setUp(keyType: KeyType): Promise<Bench> {
  const world = await aWorld({ store: "file", issuer: "local-ca", credentials: 4, keyType });
  const clock = new StepClock();
  const runtime = await createRuntime(world.config, {
    logger: createLogger({ level: "silent" }),
    observers: [clock.observe],
  });
  const credentials = await Promise.all(world.credentials.map((c) => runtime.credential(c.id)));
  const store = runtime.stores.get("main")!;
  const ca = (await store.readCurrent({ credentialId: "ca", path: "ca/issuing" })).material;
  const template = (await store.readCurrent(credentials[0]!.ref)).material.certPem;
  const bank = runtime.banks.get("sandbox")!;
  const issuer = world.config.issuers.issuer;
  const validityMs = issuer?.kind === "local-ca" ? issuer.validity : 365 * DAY; // as the issuer signs

  /** One rotation's primitives, in the saga's order, each timed; binding at the sandbox is in-process. */
  const chain = async (times?: Record<Primitive, number[]>): Promise<void> => {
    let at = performance.now();
    const lap = (name: Primitive): void => {
      const now = performance.now();
      times?.[name].push(now - at);
      at = now;
    };
    const { keyPem } = await generateKeyPair(keyType);
    lap("keygen");
    const csrPem = await createCsrFromCertificate(template, keyPem);
    lap("csr");
    const certPem = await signClientCsr({ csrPem, caCertPem: ca.certPem, caKeyPem: ca.keyPem, validityMs });
    lap("sign");
    buildPfx({ keyPem, certPem, chainPem: ca.certPem, passphrase: randomPassphrase() });
    lap("pfx");
    const creds = world.sandbox.addCredential({ certificates: [certPem] });
    at = performance.now();
    await bank.requestToken({ certPem, keyPem, chainPem: ca.certPem }, creds);
    lap("token1");
    await bank.requestToken({ certPem, keyPem, chainPem: ca.certPem }, creds);
    lap("token2");
  };
  const recipe = await prepareRecipe(world, keyType, template);
  const storeConfig = world.config.stores.main;
  if (storeConfig?.kind !== "file") throw new Error("bench rotation: the world's store is not a file store");
  const docFile = join(storeConfig.dir, encodePath(credentials[0]!.ref.path) + DOC_SUFFIX);
  const durable = prepareDurableWrites(join(world.dir, "durable-writes"), docFile);
  return { world, runtime, clock, credentials, chain, recipe, durable };
}

/** One rotation, to its end; returns its step timings. */
async function rotate(bench: Bench, credential: ResolvedCredential): Promise<Map<string, number>> {
  const result = await runRotation(bench.runtime.depsFor(credential), credential, {
    trigger: "inline",
    force: true,
  });
  const steps = bench.clock.take(result.rotationId);
  if (result.status !== "succeeded") throw new Error(`bench rotation of ${credential.id}: ${result.status}`);
  return steps;
}

/** Runs `count` tasks on `concurrency` lanes (a lane's tasks run one after another); returns ops/s. */
async function rate(count: number, concurrency: number, task: (lane: number) => Promise<void>) {
  let next = 0;
  const started = performance.now();
  const lane = async (index: number): Promise<void> => {
    while (next < count) {
      next++;
      await task(index); // one credential per lane: never two rotations of one credential at once
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => lane(index)));
  return (count * 1000) / (performance.now() - started);
}

function countCalls(calls: string[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call, (counts.get(call) ?? 0) + 1);
  return [...counts].map(([call, count]) => `${call} ×${count}`).join(", ");
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

interface Samples {
  rotationMs: number[];
  /** Per sequential rotation: its total minus its generate step (keygen + CSR). */
  restMs: number[];
  steps: Map<string, number[]>;
  /** Process CPU ms (user + system) of the sequential rounds, ours and the primitives'. */
  cpuMs: { rotation: number; chain: number };
  /** The bank requests one rotation makes (each on a new TLS connection). */
  bankCalls: string;
  rotationRates: Record<number, number[]>;
  chainRates: Record<number, number[]>;
  primitives: Record<Primitive, number[]>;
  /** ms of each run of the seeds' openssl + curl script (one rotation each). */
  recipeMs: number[];
  /** ms of each run of the rotation's fsynced writes done bare (bench/durable-writes.ts). */
  durableMs: number[];
}

async function sample(bench: Bench, keyType: "p256" | "rsa2048"): Promise<Samples> {
  const { rounds, perRound } = SIZES[keyType];
  const s: Samples = {
    rotationMs: [],
    restMs: [],
    steps: new Map(),
    cpuMs: { rotation: 0, chain: 0 },
    bankCalls: "",
    rotationRates: { 1: [], 2: [], 4: [] },
    chainRates: { 1: [], 2: [], 4: [] },
    primitives: Object.fromEntries(PRIMITIVES.map((p) => [p, []])) as unknown as Record<Primitive, number[]>,
    recipeMs: [],
    durableMs: [],
  };
  const timedRotation = async (slot: number): Promise<void> => {
    const started = performance.now();
    const steps = await rotate(bench, bench.credentials[slot]!);
    const total = performance.now() - started;
    s.rotationMs.push(total);
    s.restMs.push(total - (steps.get("generate") ?? 0));
    for (const [step, ms] of steps) s.steps.set(step, [...(s.steps.get(step) ?? []), ms]);
  };
  // warm-up (connections, JIT, the CA read the issuer caches), then one rotation's calls to the bank
  await rotate(bench, bench.credentials[0]!);
  await bench.chain();
  await bench.recipe.run();
  const logged = bench.world.sandbox.logs.length;
  await rotate(bench, bench.credentials[0]!);
  s.bankCalls = countCalls(bench.world.sandbox.logs.slice(logged).map((e) => `${e.method} ${e.endpoint}`));
  // Alternate ours and the primitives in every round so drift hits both alike.
  const untimed = async (slot: number): Promise<void> => void (await rotate(bench, bench.credentials[slot]!));
  for (let round = 0; round < rounds; round++) {
    for (const c of CONCURRENCY) {
      const seq = c === 1;
      let cpu = process.cpuUsage();
      s.rotationRates[c]!.push(await rate(perRound, c, seq ? timedRotation : untimed));
      if (seq) s.cpuMs.rotation += cpuMs(cpu);
      cpu = process.cpuUsage();
      s.chainRates[c]!.push(await rate(perRound, c, () => bench.chain(seq ? s.primitives : undefined)));
      if (seq) s.cpuMs.chain += cpuMs(cpu);
    }
    for (let i = 0; i < perRound; i++) {
      let started = performance.now();
      await bench.recipe.run();
      s.recipeMs.push(performance.now() - started);
      started = performance.now();
      await bench.durable.run();
      s.durableMs.push(performance.now() - started);
    }
    log(`${keyType} round ${round + 1}/${rounds}`);
  }
  return s;
}

function rowsOf(keyType: "p256" | "rsa2048", s: Samples): BenchRow[] {
  const m = Object.fromEntries(PRIMITIVES.map((p) => [p, median(s.primitives[p])])) as Record<
    Primitive,
    number
  >;
  const primitiveSum = PRIMITIVES.reduce((sum, p) => sum + m[p], 0);
  const n = s.rotationMs.length;
  const parts = PRIMITIVES.map((p) => `${p} ${m[p].toFixed(1)}`).join(" + ");
  const steps = ["plan", "generate", "issue", "stage", "register", "verify", "promote", "retire", "done"]
    .map((step) => `${step} ${median(s.steps.get(step) ?? [0]).toFixed(1)}`)
    .join(", ");
  const sumName = "sum of primitive medians, same run";
  const rows: BenchRow[] = [
    row({
      section: "rotation",
      op: `rotation ${keyType} --inline, file store, one at a time`,
      value: median(s.rotationMs),
      baseline: primitiveSum,
      baselineName: sumName,
      unit: "ms/op",
      n,
      notes: `primitives (median ms): ${parts}; saga steps (median ms): ${steps}; bank requests per rotation: ${s.bankCalls}`,
    }),
    row({
      section: "rotation",
      op: `rotation ${keyType} --inline against primitives + its fsynced writes`,
      value: median(s.rotationMs),
      baseline: primitiveSum + median(s.durableMs),
      baselineName: "primitive sum + the 3 durable writes, bare",
      unit: "ms/op",
      n,
      notes: `the writes a file-store rotation must fsync, done bare (bench/durable-writes.ts: journal record's first line; pending and promoted document, each temp + fsync + rename + directory fsync): median ${median(s.durableMs).toFixed(1)} ms over ${s.durableMs.length} runs; what remains is the saga's own work`,
    }),
    row({
      section: "rotation",
      op: `rotation ${keyType} --inline against the seeds' openssl + curl recipe`,
      value: median(s.rotationMs),
      baseline: median(s.recipeMs),
      baselineName: "bench/recipe/rotate.sh, one run per rotation",
      unit: "ms/op",
      n,
      notes: `recipe: genpkey, req, x509 -req, pkcs12 -export, curl token-v2 (median ms ${median(s.recipeMs).toFixed(1)}, ${s.recipeMs.length} runs); it binds nothing (its credential trusts the CA), certrotor's rotation also binds, verifies, promotes and retires`,
    }),
    row({
      section: "rotation",
      op: `CPU per rotation ${keyType} --inline (process, sandbox included)`,
      value: s.cpuMs.rotation / n,
      baseline: s.cpuMs.chain / n,
      baselineName: "CPU per primitive chain",
      unit: "ms/op",
      n,
      notes:
        "user + system CPU of the bench process over the one-at-a-time rounds: less sensitive to other load",
    }),
    row({
      section: "rotation",
      op: `rotation ${keyType} --inline minus generate step (keygen+CSR)`,
      value: median(s.restMs),
      baseline: primitiveSum - m.keygen - m.csr,
      baselineName: "same sum minus keygen+CSR",
      unit: "ms/op",
      n,
      notes: "takes the keygen spread out of the comparison: what the saga adds around the crypto and TLS",
    }),
  ];
  for (const c of CONCURRENCY) {
    rows.push(
      row({
        section: "rotation",
        op: `rotations/s ${keyType} --inline, ${c} in flight`,
        value: median(s.rotationRates[c]!),
        baseline: median(s.chainRates[c]!),
        baselineName: `primitive chains/s, ${c} in flight`,
        unit: "ops/s",
        n: s.rotationRates[c]!.length * SIZES[keyType].perRound,
        notes: "median of per-round rates; distinct credentials in flight; sandbox bank in this process",
      }),
    );
  }
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const keyType of ["p256", "rsa2048"] as const) {
    log(`${keyType}: building the world`);
    const bench = await setUp(keyType);
    try {
      rows.push(...rowsOf(keyType, await sample(bench, keyType)));
    } finally {
      await bench.runtime.close();
      await bench.world.stop();
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op.padEnd(58)} ${r.value.toFixed(2).padStart(9)} ${r.unit.padEnd(5)}  ${r.baselineName.padEnd(36)} ${r.baseline.toFixed(2).padStart(9)}  ratio ${r.speedup.toFixed(2)}  n=${r.n}`,
    );
    if (r.notes) console.log(`  ${r.notes}`);
  }
}
