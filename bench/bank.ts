/**
 * Bank section: full token calls per second through the banking-api adapter's `requestToken` (new mTLS
 * connection and full handshake each, JSON parsing, status mapping, cnf.x5t#S256 check) against the
 * sandbox on loopback, beside a bare Node `https.request` mTLS POST to the same server with the same
 * policy (one SecureContext reused, no session resumption, new connection each). The ratio is the
 * adapter's overhead: ≈ 1 means the adapter costs nothing over the handshake.
 *
 *   node --import tsx bench/bank.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { Agent, request } from "node:https";
import { performance } from "node:perf_hooks";
import { createSecureContext, type SecureContext } from "node:tls";
import { pathToFileURL } from "node:url";
import { createBankingApi } from "../src/bank/banking-api.js";
import { startSandbox, TOKEN_PATH } from "../src/sandbox/index.js";
import type { KeyType } from "../src/config/schema.js";
import { createCa, createCsr, generateKeyPair, signClientCsr } from "../src/crypto/index.js";
import { type BenchRow, median, quick, row } from "./lib.js";

type Tls = "TLSv1.2" | "TLSv1.3";
const CASES: Array<{ keyType: KeyType; tls: Tls }> = [
  { keyType: "rsa2048", tls: "TLSv1.2" },
  { keyType: "rsa2048", tls: "TLSv1.3" },
  { keyType: "p256", tls: "TLSv1.2" },
  { keyType: "p256", tls: "TLSv1.3" },
];
const ROUNDS = quick ? 2 : 6;
const PER_ROUND = quick ? 10 : 50;

async function clientMaterial(keyType: KeyType) {
  const ca = await createCa({
    subject: "CN=Bench CA,O=certrotor bench,C=BR",
    keyType,
    validityMs: 86_400_000,
  });
  const { keyPem } = await generateKeyPair(keyType);
  const csrPem = await createCsr({ keyPem, subject: "CN=bench-client,O=certrotor bench,C=BR" });
  const certPem = await signClientCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: 86_400_000,
  });
  return { ca, certPem, keyPem };
}

/** The baseline: one bare mTLS POST of the token body, JSON parsed, on a new connection. */
function barePost(url: URL, context: SecureContext, agent: Agent, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const options = {
      method: "POST",
      agent,
      secureContext: context,
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
    };
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString()) as { access_token?: string };
        if (res.statusCode !== 200 || !parsed.access_token)
          reject(new Error(`baseline got ${res.statusCode}`));
        else resolve();
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** ops/s of `fn` over `count` sequential calls. */
async function rate(fn: () => Promise<unknown>, count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await fn();
  return (count * 1000) / (performance.now() - start);
}

async function measureCase(keyType: KeyType, tls: Tls): Promise<BenchRow> {
  const material = await clientMaterial(keyType);
  const sandbox = await startSandbox({ clientCaPems: [material.ca.certPem], tlsMaxVersion: tls });
  try {
    const creds = sandbox.addCredential({ certificates: [material.certPem] });
    const bank = createBankingApi(
      "bench",
      {
        kind: "banking-api",
        url: sandbox.url,
        adminApiKey: sandbox.adminApiKey,
        tls: { minVersion: tls, maxVersion: tls },
        requestTimeout: 10_000,
        retries: 0,
        registration: "api",
        maxSlots: 2,
      },
      { caPem: sandbox.serverCaPem },
    );
    const pem = { certPem: material.certPem, keyPem: material.keyPem };
    const ours = () => bank.requestToken(pem, creds);
    const context = createSecureContext({
      key: material.keyPem,
      cert: material.certPem,
      ca: sandbox.serverCaPem,
      minVersion: tls,
      maxVersion: tls,
    });
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 0 });
    const body = JSON.stringify({
      client_id: creds.clientId,
      client_secret: creds.clientSecret,
      grant_type: "client_credentials",
    });
    const url = new URL(TOKEN_PATH, sandbox.url);
    const bare = () => barePost(url, context, agent, body);
    for (let i = 0; i < 5; i++) await Promise.all([ours(), bare()]);
    // Alternate rounds so drift (thermal, other load) hits both sides alike; report the medians.
    const oursRates: number[] = [];
    const bareRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      oursRates.push(await rate(ours, PER_ROUND));
      bareRates.push(await rate(bare, PER_ROUND));
    }
    return row({
      section: "bank",
      op: `token call, new mTLS connection, ${keyType} TLS ${tls.slice(4)}`,
      value: median(oursRates),
      baseline: median(bareRates),
      baselineName: "bare https.request mTLS POST",
      unit: "ops/s",
      n: ROUNDS * PER_ROUND,
      notes: "sandbox on loopback in the same process; full handshake per call (no session resumption)",
    });
  } finally {
    await sandbox.stop();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const { keyType, tls } of CASES) rows.push(await measureCase(keyType, tls));
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op.padEnd(52)} ${r.value.toFixed(1).padStart(7)} ops/s  bare ${r.baseline.toFixed(1).padStart(7)} ops/s  ratio ${r.speedup.toFixed(2)}`,
    );
  }
}
