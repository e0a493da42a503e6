/**
 * Crypto section: ms/op of certrotor's crypto core beside the openssl CLI doing the same operation in the
 * same run (the seed 002 recipe; spawn included, as an operator's script pays it), plus two in-process
 * baselines: native X509Certificate for parsing and node-forge for PKCS#12 (what the research measured).
 *
 *   node --import tsx bench/crypto.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import forge from "node-forge";
import type { KeyType } from "../src/config/schema.js";
import {
  buildPfx,
  createCa,
  createCsr,
  generateKeyPair,
  inspectCertificate,
  readPfx,
  signClientCsr,
} from "../src/crypto/index.js";
import { type BenchRow, quick, row, timeMs } from "./lib.js";

const exec = promisify(execFile);
const DAY = 86_400_000;
const PASS = "bench-passphrase-0123456789";

const GENPKEY: Record<KeyType, string[]> = {
  rsa2048: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
  rsa3072: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
  rsa4096: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
  p256: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
};
const KEYGEN_N: Record<KeyType, number> = quick
  ? { rsa2048: 3, rsa3072: 2, rsa4096: 1, p256: 10, p384: 10 }
  : { rsa2048: 30, rsa3072: 8, rsa4096: 5, p256: 100, p384: 100 };
const N = quick ? 5 : 50;

// The seed 002 usr_cert profile, reduced as certrotor's is.
const EXTFILE = `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function compare(
  op: string,
  ours: number,
  baseline: number,
  baselineName: string,
  n: number,
  notes?: string,
): BenchRow {
  return row({
    section: "crypto",
    op,
    value: ours,
    baseline,
    baselineName,
    unit: "ms/op",
    n,
    ...(notes ? { notes } : {}),
  });
}

async function keygenRows(cwd: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const keyType of Object.keys(GENPKEY) as KeyType[]) {
    const n = KEYGEN_N[keyType];
    const warmup = keyType.startsWith("rsa") ? 0 : 2;
    const ours = await timeMs(() => generateKeyPair(keyType), n, warmup);
    const theirs = await timeMs(
      () => exec("openssl", ["genpkey", ...GENPKEY[keyType], "-out", "k.pem"], { cwd }),
      n,
      warmup,
    );
    rows.push(
      compare(
        `keygen ${keyType}`,
        ours,
        theirs,
        "openssl genpkey",
        n,
        keyType.startsWith("rsa") ? "RSA: median of a wide prime-search spread" : "",
      ),
    );
  }
  return rows;
}

async function issuanceRows(keyType: KeyType, cwd: string): Promise<BenchRow[]> {
  const ca = await createCa({
    subject: "CN=Bench CA,O=certrotor bench,C=BR",
    keyType,
    validityMs: 3650 * DAY,
  });
  const { keyPem } = await generateKeyPair(keyType);
  const subject = "CN=bench-client,OU=Payments,O=certrotor bench,C=BR";
  const csrPem = await createCsr({ keyPem, subject, sans: ["dns:bench.example"] });
  const certPem = await signClientCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: 90 * DAY,
  });
  const pfx = buildPfx({ keyPem, certPem, chainPem: ca.certPem, passphrase: PASS });
  const files = {
    "ca.pem": ca.certPem,
    "ca.key": ca.keyPem,
    "key.pem": keyPem,
    "req.csr": csrPem,
    "cert.pem": certPem,
  };
  for (const [name, content] of Object.entries(files)) await writeFile(join(cwd, name), content);
  await writeFile(join(cwd, "ext.cnf"), EXTFILE);
  await writeFile(join(cwd, "client.pfx"), pfx);
  const openssl = (args: string[]) => () => exec("openssl", args, { cwd });

  const csr = [
    await timeMs(() => createCsr({ keyPem, subject, sans: ["dns:bench.example"] }), N),
    await timeMs(
      openssl([
        "req",
        "-new",
        "-key",
        "key.pem",
        "-subj",
        "/C=BR/O=certrotor bench/OU=Payments/CN=bench-client",
        "-addext",
        "subjectAltName=DNS:bench.example",
        "-out",
        "o.csr",
      ]),
      N,
    ),
  ] as const;
  const sign = [
    await timeMs(
      () => signClientCsr({ csrPem, caCertPem: ca.certPem, caKeyPem: ca.keyPem, validityMs: 90 * DAY }),
      N,
    ),
    await timeMs(
      openssl([
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "0x1234",
        "-days",
        "90",
        "-sha256",
        "-extfile",
        "ext.cnf",
        "-out",
        "o.pem",
      ]),
      N,
    ),
  ] as const;
  const build = [
    await timeMs(() => buildPfx({ keyPem, certPem, chainPem: ca.certPem, passphrase: PASS }), N),
    await timeMs(
      openssl([
        "pkcs12",
        "-export",
        "-inkey",
        "key.pem",
        "-in",
        "cert.pem",
        "-certfile",
        "ca.pem",
        "-passout",
        `pass:${PASS}`,
        "-out",
        "o.pfx",
      ]),
      N,
    ),
  ] as const;
  const parse = [
    await timeMs(() => readPfx(pfx, PASS), N),
    await timeMs(
      openssl(["pkcs12", "-in", "client.pfx", "-passin", `pass:${PASS}`, "-nodes", "-out", "o.out"]),
      N,
    ),
  ] as const;
  return [
    compare(`CSR ${keyType}`, csr[0], csr[1], "openssl req -new", N),
    compare(`CA sign ${keyType} (CSR verify + issue)`, sign[0], sign[1], "openssl x509 -req", N),
    compare(`PFX build ${keyType} (AES-256, SHA-256 MAC)`, build[0], build[1], "openssl pkcs12 -export", N),
    compare(`PFX parse ${keyType}`, parse[0], parse[1], "openssl pkcs12 -in", N),
  ];
}

async function parseRows(cwd: string): Promise<BenchRow[]> {
  const ca = await createCa({ subject: "CN=Bench CA,C=BR", keyType: "p256", validityMs: DAY });
  await writeFile(join(cwd, "ca.pem"), ca.certPem);
  const n = quick ? 200 : 5000;
  // inspectCertificate keeps the last 256 parses (src/crypto/memo.ts): 512 texts of the same certificate,
  // differing in trailing newlines, taken in turn, make every call a cold parse, as a scan's are
  const variants = Array.from({ length: 512 }, (_, i) => ca.certPem + "\n".repeat(i));
  let next = 0;
  const variant = (): string => variants[next++ % variants.length]!;
  const inspect = await timeMs(() => inspectCertificate(variant()), n, 50);
  const native = await timeMs(() => new X509Certificate(variant()).validTo, n, 50);
  const cli = await timeMs(
    () => exec("openssl", ["x509", "-noout", "-enddate", "-in", "ca.pem"], { cwd }),
    N,
  );
  return [
    compare(
      "certificate parse → notAfter (inspectCertificate)",
      inspect,
      cli,
      "openssl x509 -noout -enddate",
      n,
    ),
    compare(
      "inspectCertificate (all fields) vs bare native parse",
      inspect,
      native,
      "crypto.X509Certificate",
      n,
    ),
  ];
}

/** node-forge's pkcs12 (RSA only), AES-256 with its defaults, the library the research measured. */
async function forgeRows(): Promise<BenchRow[]> {
  const ca = await createCa({ subject: "CN=Bench CA,C=BR", keyType: "rsa2048", validityMs: DAY });
  const { keyPem } = await generateKeyPair("rsa2048");
  const csrPem = await createCsr({ keyPem, subject: "CN=forge" });
  const certPem = await signClientCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: DAY,
  });
  const key = forge.pki.privateKeyFromPem(keyPem);
  const certs = [forge.pki.certificateFromPem(certPem), forge.pki.certificateFromPem(ca.certPem)];
  const forgeBuild = () =>
    forge.asn1
      .toDer(forge.pkcs12.toPkcs12Asn1(key, certs, PASS, { algorithm: "aes256", friendlyName: "x" }))
      .getBytes();
  const der = forgeBuild();
  const ours = buildPfx({ keyPem, certPem, chainPem: ca.certPem, passphrase: PASS });
  const build = [
    await timeMs(() => buildPfx({ keyPem, certPem, chainPem: ca.certPem, passphrase: PASS }), N),
    await timeMs(forgeBuild, N),
  ] as const;
  const parse = [
    await timeMs(() => readPfx(ours, PASS), N),
    await timeMs(() => forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), PASS), N),
  ] as const;
  return [
    compare("PFX build rsa2048", build[0], build[1], "node-forge pkcs12 (aes256)", N),
    compare("PFX parse rsa2048", parse[0], parse[1], "node-forge pkcs12FromAsn1", N),
  ];
}

export async function run(): Promise<BenchRow[]> {
  const cwd = await mkdtemp(join(tmpdir(), "certrotor-bench-crypto-"));
  try {
    return [
      ...(await keygenRows(cwd)),
      ...(await issuanceRows("rsa2048", cwd)),
      ...(await issuanceRows("p256", cwd)),
      ...(await parseRows(cwd)),
      ...(await forgeRows()),
    ];
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.op.padEnd(54)} ${r.value.toFixed(2).padStart(8)} ms  ${r.baselineName.padEnd(30)} ${r.baseline.toFixed(2).padStart(8)} ms  ratio ${r.speedup.toFixed(2)}  n=${r.n}`,
    );
  }
}
