/**
 * `certrotor sandbox portal bind|unbind|sign` in child processes against a `certrotor sandbox` child,
 * reading the sandbox.json it wrote: the test plays the person at the bank's portal, the product's bank
 * adapters check the result over real mTLS. Also what `sandbox --out` writes for a local-CA setup
 * (ca.pem, ca.key 0600), proven by issuing a certificate with that key that the bank accepts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { createOauth2Mtls } from "../../src/bank/oauth2-mtls.js";
import {
  assertKeyMatchesCertificate,
  createCsr,
  generateKeyPair,
  inspectCertificate,
  keyMatchesCertificate,
  signClientCsr,
  verifyChain,
} from "../../src/crypto/index.js";
import { CertrotorError } from "../../src/errors.js";
import type { SandboxDetails } from "../../src/sandbox/kit.js";
import { type CliRun, certrotor, type RunningSandbox, startSandboxCli } from "../fixtures/cli.js";
import { days } from "../fixtures/pki.js";
import { bankConfig, oauth2Config, rejection } from "./helpers.js";

const PORTAL_SECRET = "portal-one-secret-7c1d";
const FIT_SECRET = "fit-secret-52aa9e";
const FIT_SUBJECT = "CN=fit,O=Acme Pagamentos,C=BR";

describe("certrotor sandbox portal, played by the test against a running sandbox", () => {
  let dir: string;
  let out: string;
  let sandbox: RunningSandbox;
  let details: SandboxDetails;
  let serverCaPem: string;
  const runs: CliRun[] = [];

  const portal = async (...args: string[]): Promise<CliRun> => {
    const run = await certrotor("sandbox", "portal", ...args, "--sandbox", out);
    runs.push(run);
    return run;
  };
  const oneLine = (run: CliRun): string => {
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    return lines[0]!;
  };
  const file = (name: string): string => join(out, name);
  const oauthBank = () =>
    createOauth2Mtls("portal-bank", oauth2Config({ url: details.url }), { caPem: serverCaPem });

  /** A fresh key and a CSR file for `subject`. */
  async function csrFile(subject: string): Promise<{ keyPem: string; path: string }> {
    const { keyPem } = await generateKeyPair("p256");
    const path = join(dir, `req-${Math.random().toString(36).slice(2)}.csr`);
    writeFileSync(path, await createCsr({ keyPem, subject }));
    return { keyPem, path };
  }

  /** The person signs a CSR in the portal; returns the key and certificate. */
  async function signedInPortal(subject: string): Promise<{ keyPem: string; certPem: string; path: string }> {
    const { keyPem, path: csr } = await csrFile(subject);
    const certPath = `${csr}.pem`;
    const run = await portal("sign", "--csr", csr, "--out", certPath);
    assert.equal(run.code, 0, run.stderr);
    return { keyPem, certPem: readFileSync(certPath, "utf8"), path: certPath };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "certrotor-portal-cli-"));
    out = join(dir, "bank");
    const seed = {
      credentials: [
        { client_id: "portal-one", client_secret: PORTAL_SECRET, portal_only: true, max_certificates: 1 },
        { client_id: "fit", client_secret: FIT_SECRET, trust_ca: { subject: FIT_SUBJECT } },
      ],
    };
    writeFileSync(join(dir, "seed.json"), JSON.stringify(seed));
    sandbox = startSandboxCli(["--port", "0", "--out", out, "--seed", join(dir, "seed.json")]);
    await sandbox.url;
    details = JSON.parse(readFileSync(file("sandbox.json"), "utf8"));
    serverCaPem = readFileSync(file(details.server_ca_file), "utf8");
  });
  after(() => {
    if (sandbox.child.exitCode === null) sandbox.child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes ca.pem and ca.key (0600), a pair, and the connection details the portal commands need", () => {
    assert.equal(statSync(file("ca.key")).mode & 0o777, 0o600);
    assert.equal(statSync(file("sandbox.json")).mode & 0o777, 0o600);
    assert.equal(statSync(file("ca.pem")).mode & 0o777, 0o644);
    assertKeyMatchesCertificate(
      readFileSync(file("ca.key"), "utf8"),
      readFileSync(file("ca.pem"), "utf8"),
      "ca.key/ca.pem",
    );
    assert.equal(details.portal_url, `${details.url}/portal/v1`);
    assert.equal(typeof details.portal_api_key, "string");
    assert.notEqual(details.portal_api_key, details.admin_api_key);
    assert.equal(details.oauth_token_path, "/oauth/token");
    assert.ok(inspectCertificate(readFileSync(file("bank-signing-ca.pem"), "utf8")).isCa);
  });

  it("lets a local CA made of ca.pem and ca.key issue a certificate a trust-the-CA credential accepts unbound", async () => {
    const { keyPem } = await generateKeyPair("p256");
    const certPem = await signClientCsr({
      csrPem: await createCsr({ keyPem, subject: FIT_SUBJECT }),
      caCertPem: readFileSync(file("ca.pem"), "utf8"),
      caKeyPem: readFileSync(file("ca.key"), "utf8"),
      validityMs: days(30),
    });
    const bank = oauthBank();
    try {
      const token = await bank.verify({ certPem, keyPem }, { clientId: "fit", clientSecret: FIT_SECRET });
      assert.equal(token.boundToCert, true);
    } finally {
      await bank.close();
    }
  });

  it("signs a CSR with the bank's CA (portal sign), writing the certificate and the chain", async () => {
    const { keyPem, path: csr } = await csrFile("CN=portal-one,O=Acme,C=BR");
    const certPath = join(dir, "signed.pem");
    const chainPath = join(dir, "chain.pem");
    const run = await portal("sign", "--csr", csr, "--out", certPath, "--chain-out", chainPath);
    assert.equal(run.code, 0, run.stderr);
    const certPem = readFileSync(certPath, "utf8");
    const info = inspectCertificate(certPem);
    assert.equal(info.subject, "CN=portal-one,O=Acme,C=BR");
    assert.ok(keyMatchesCertificate(keyPem, certPem), "issued for the CSR's key");
    const bankCa = readFileSync(file("bank-signing-ca.pem"), "utf8");
    verifyChain(certPem, undefined, bankCa);
    assert.equal(readFileSync(chainPath, "utf8").trim(), bankCa.trim());
    assert.match(run.stdout, new RegExp(`^signed ${info.fingerprint} .* written to `));
  });

  it("binds in the portal what the admin API refuses for a portal-only credential; the bank then accepts it", async () => {
    const signed = await signedInPortal("CN=portal-one,O=Acme,C=BR");
    const admin = createBankingApi(
      "admin",
      bankConfig({ url: details.url, adminApiKey: details.admin_api_key }),
      { caPem: serverCaPem },
    );
    const bank = oauthBank();
    const creds = { clientId: "portal-one", clientSecret: PORTAL_SECRET };
    const material = { certPem: signed.certPem, keyPem: signed.keyPem };
    try {
      const refused = await rejection(() => admin.slots.bind("portal-one", signed.certPem));
      assert.ok(refused instanceof CertrotorError && refused.code === "BANK_BAD_REQUEST");
      assert.match(refused.message, /only in the bank's portal/);
      assert.deepEqual(await admin.slots.listSlots("portal-one"), []);
      assertCoded(await rejection(() => bank.requestToken(material, creds)), "INVALID_CLIENT_CERT");

      const bind = await portal("bind", "--client-id", "portal-one", "--cert", signed.path);
      assert.equal(bind.code, 0, bind.stderr);
      assert.match(
        bind.stdout,
        /^bound [0-9a-f]{64} \(CN=portal-one,O=Acme,C=BR, notAfter .*\) to credential "portal-one"\n$/,
      );
      const fingerprints = (await admin.slots.listSlots("portal-one")).map((slot) => slot.fingerprint);
      assert.deepEqual(fingerprints, [inspectCertificate(signed.certPem).fingerprint]);
      assert.equal((await bank.verify(material, creds)).boundToCert, true);

      // Single slot: a second certificate is refused, one line, exit 2, nothing changed.
      const second = await signedInPortal("CN=portal-one,O=Acme,C=BR");
      const full = await portal("bind", "--client-id", "portal-one", "--cert", second.path);
      assert.equal(full.code, 2);
      assert.match(
        oneLine(full),
        /^certrotor: SLOTS_FULL: portal bind: the portal answered 409: .*1 active certificate/,
      );
      assert.equal((await admin.slots.listSlots("portal-one")).length, 1);

      const unbind = await portal("unbind", "--client-id", "portal-one", "--cert", signed.path);
      assert.equal(unbind.code, 0, unbind.stderr);
      assert.deepEqual(await admin.slots.listSlots("portal-one"), []);
      assertCoded(await rejection(() => bank.requestToken(material, creds)), "INVALID_CLIENT_CERT");

      // Cut-over done by hand: the second certificate fits now, unbound again by fingerprint.
      assert.equal((await portal("bind", "--client-id", "portal-one", "--cert", second.path)).code, 0);
      const secondFingerprint = inspectCertificate(second.certPem).fingerprint;
      const byFingerprint = await portal(
        "unbind",
        "--client-id",
        "portal-one",
        "--fingerprint",
        secondFingerprint,
      );
      assert.equal(byFingerprint.code, 0, byFingerprint.stderr);
    } finally {
      await Promise.all([admin.close(), bank.close()]);
    }
  });

  it("refuses bad input with one line and exit 64, asking nothing of the portal", async () => {
    const notACert = join(dir, "not-a-cert.pem");
    writeFileSync(notACert, "hello\n");
    const cases: Array<{ run: Promise<CliRun>; line: RegExp }> = [
      {
        run: portal("bind", "--client-id", "portal-one", "--cert", join(dir, "missing.pem")),
        line: /^certrotor: CONFIG_NOT_FOUND: --cert: .*missing\.pem cannot be read \(ENOENT\)$/,
      },
      {
        run: portal("bind", "--client-id", "portal-one", "--cert", notACert),
        line: /^certrotor: PEM_MALFORMED: the certificate: no PEM block found$/,
      },
      {
        run: certrotor(
          "sandbox",
          "portal",
          "sign",
          "--csr",
          notACert,
          "--out",
          join(dir, "x.pem"),
          "--sandbox",
          join(dir, "nowhere"),
        ),
        line: /^certrotor: CONFIG_NOT_FOUND: --sandbox: .*nowhere/,
      },
      {
        run: portal(
          "unbind",
          "--client-id",
          "portal-one",
          "--cert",
          notACert,
          "--fingerprint",
          "ab".repeat(32),
        ),
        line: /^certrotor: BAD_ARGUMENT: give exactly one of --cert <file> and --fingerprint/,
      },
      {
        run: portal("unbind", "--client-id", "nobody", "--fingerprint", "ab".repeat(32)),
        line: /^certrotor: BAD_ARGUMENT: portal unbind: the portal answered 404: credential "nobody" does not exist/,
      },
      {
        run: portal("sign", "--csr", notACert),
        line: /^certrotor: BAD_ARGUMENT: required option '--out <file>'/,
      },
    ];
    for (const { run, line } of cases) {
      const result = await run;
      assert.equal(result.code, 64, result.stderr);
      assert.match(oneLine(result), line);
    }
  });

  it("never prints the portal key, the admin key or a client secret", () => {
    const printed = [
      sandbox.stdout(),
      sandbox.stderr(),
      ...runs.flatMap((run) => [run.stdout, run.stderr]),
    ].join("\n");
    assert.ok(runs.length >= 8, "the portal commands ran");
    for (const secret of [
      details.portal_api_key,
      details.admin_api_key,
      details.client_secret,
      PORTAL_SECRET,
      FIT_SECRET,
    ]) {
      assert.ok(!printed.includes(secret), "a secret was printed");
    }
  });
});

function assertCoded(error: unknown, code: string): void {
  assert.ok(error instanceof CertrotorError, `expected a CertrotorError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
}
