/**
 * Onboarding as docs/cli.md (import) tells a new user to: an existing credential (certificate and key files on
 * disk, the client secret in a variable) is brought in with `certrotor import`, then a worker on real
 * Redis rotates it (`certrotor rotate --wait`), the test playing the person where the bank needs one.
 * Five bank kinds at one sandbox, the three store kinds spread over them:
 * - an API bank (slot API), into a secret created without a value in the AWS emulator;
 * - a manual-registration bank (portal-only credential), into the Vault emulator; the person binds the
 *   new certificate and unbinds the old one with `sandbox portal bind|unbind`;
 * - a portal-signing bank (issuer bank-portal), into the file store: the existing certificate came from
 *   the portal (`sandbox portal sign`), and so does the new one, given back with `task complete --cert`;
 * - a single-slot bank (maxSlots 1: a cut-over), into the file store;
 * - a bank that trusts the CA (registration none), into the file store: nothing bound, proven by a token;
 * - a bank that signs through its admin API (issuer kind bank, no caFile), into the file store: its CA is
 *   known only from its first signature, so the token call is the import's proof (--no-verify refused).
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { configSchema } from "../../src/config/schema.js";
import { isCertrotorError } from "../../src/errors.js";
import { createCsr, fingerprintOf, generateKeyPair } from "../../src/crypto/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import type { HumanTask } from "../../src/tasks/types.js";
import { pollUntil } from "../../src/util/poll.js";
import { type AwsEmulator, startAwsEmulator } from "../emulators/aws/server.js";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/server.js";
import { certrotor, certrotorWith } from "../fixtures/cli.js";
import { invariantViolations } from "../fixtures/invariants.js";
import { aClientCert } from "../fixtures/pki.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { queueConfig, spawnWorker, stopWorker, type WorkerProcess, writeConfig } from "../queue/helpers.js";

const PORTAL = "https://portal.bank.example/certificates";
const subject = (id: string) => `CN=${id},OU=Payments,O=Test Fintech Ltda,C=BR`;

/** Each case: its bank (config name), store, issuer, and how the sandbox credential behaves. */
const CASES = {
  "api-aws": { bank: "sandbox", store: "aws", issuer: "issuer", seed: {} },
  "manual-vault": { bank: "portal", store: "vault", issuer: "issuer", seed: { portalOnly: true } },
  "portal-file": {
    bank: "trusting",
    store: "main",
    issuer: "portal-signer",
    seed: { trustCa: { subject: subject("portal-file") } },
  },
  "single-file": { bank: "single", store: "main", issuer: "issuer", seed: { maxCertificates: 1 as const } },
  "trust-file": {
    bank: "trusting",
    store: "main",
    issuer: "issuer",
    seed: { trustCa: { subject: subject("trust-file") } },
  },
  "bank-file": { bank: "sandbox", store: "main", issuer: "bank-signer", seed: {} },
} as const;
type CaseId = keyof typeof CASES;
const IDS = Object.keys(CASES) as CaseId[];
/** Banks with something bound per certificate (the others trust the issuing CA). */
const BINDS: readonly CaseId[] = ["api-aws", "manual-vault", "single-file", "bank-file"];
/** Existing certificates the bank's CA signed (its portal), the others the institution's CA. */
const BANK_SIGNED: readonly CaseId[] = ["portal-file", "bank-file"];

describe("onboarding: import an existing credential, then a worker rotates it", () => {
  let world: TestWorld;
  let vault: VaultEmulator;
  let aws: AwsEmulator;
  let redis: RedisServer;
  let runtime: Runtime;
  let worker: WorkerProcess;
  let configPath: string;
  const bank = {} as Record<CaseId, { clientId: string; clientSecret: string }>;
  /** The "existing" certificate file of each credential, and its fingerprint. */
  const existing = {} as Record<CaseId, { certFile: string; keyFile: string; fingerprint: string }>;

  const issuingCa = () => join(world.dir, "issuing-ca.pem");
  const cli = (...args: string[]) => certrotor(...args, "--config", configPath);
  const portal = async (...args: string[]) => {
    const run = await certrotor("sandbox", "portal", ...args, "--sandbox", world.dir);
    assert.equal(run.code, 0, run.stderr);
  };
  const bound = (id: CaseId) =>
    world.sandbox.boundCertificates(bank[id].clientId).map((b) => b.certificate.fingerprint);

  before(async () => {
    world = await aWorld({ store: "file", issuer: "local-ca", credentials: 0 });
    [vault, aws, redis] = await Promise.all([startVaultEmulator(), startAwsEmulator(), startRedis()]);
    const signingCa = join(world.dir, "bank-signing-ca.pem");
    await writeFile(signingCa, world.sandbox.bankCaPem);
    const api = world.config.banks.sandbox!;
    const oauth = {
      kind: "oauth2-mtls",
      url: world.sandbox.url,
      caFile: api.caFile,
      tokenPath: "/oauth/token",
    };
    for (const id of IDS) bank[id] = world.sandbox.addCredential(CASES[id].seed);
    const base = queueConfig(world.config, redis.url);
    const config = configSchema.parse({
      ...base,
      stores: {
        ...base.stores,
        vault: { kind: "vault", address: vault.url, auth: { method: "token", token: vault.rootToken } },
        aws: { kind: "aws", region: aws.region, endpoint: aws.url, credentials: aws.credentials },
      },
      banks: {
        sandbox: api,
        single: { ...api, maxSlots: 1 },
        portal: { ...oauth, registration: "manual", portalUrl: PORTAL },
        trusting: { ...oauth, registration: "none" },
      },
      issuers: {
        ...base.issuers,
        "portal-signer": { kind: "bank-portal", bank: "trusting", caFile: signingCa },
        "bank-signer": { kind: "bank", bank: "sandbox" },
      },
      credentials: IDS.map((id) => ({
        id,
        clientId: bank[id].clientId,
        bank: CASES[id].bank,
        store: CASES[id].store,
        issuer: CASES[id].issuer,
        path: `onboard/${id}`,
        keyType: "p256",
      })),
      tasks: { ...base.tasks, pollEvery: 200, pollMax: 1_000 },
      worker: { ...base.worker, concurrency: IDS.length },
    });
    configPath = await writeConfig(world.dir, config);
    // what `certrotor sandbox --out` writes, for `sandbox portal ...` (bank-ca.pem is beside it)
    await writeFile(
      join(world.dir, "sandbox.json"),
      JSON.stringify({
        url: world.sandbox.url,
        portal_url: world.sandbox.portalUrl,
        portal_api_key: world.sandbox.portalApiKey,
        server_ca_file: "bank-ca.pem",
      }),
      { mode: 0o600 },
    );
    worker = spawnWorker(configPath);
    runtime = await createRuntime(config, { logger: createLogger({ level: "silent" }) });

    // the existing credentials, as their owners hold them: PEM files, bound at the bank where it binds
    await writeFile(issuingCa(), world.ca.certPem);
    for (const id of IDS) {
      const certFile = join(world.dir, `${id}.pem`);
      const keyFile = join(world.dir, `${id}.key`);
      if (BANK_SIGNED.includes(id)) {
        // issued earlier by the bank's portal from the owner's CSR
        const { keyPem } = await generateKeyPair("p256");
        const csrFile = join(world.dir, `${id}.csr`);
        await writeFile(csrFile, await createCsr({ keyPem, subject: subject(id) }));
        await portal("sign", "--csr", csrFile, "--out", certFile);
        await writeFile(keyFile, keyPem);
        if (BINDS.includes(id))
          world.sandbox.bindCertificate(bank[id].clientId, await readFile(certFile, "utf8"));
      } else {
        const cert = await aClientCert({ ca: world.ca, subject: subject(id) });
        await writeFile(certFile, cert.certPem);
        await writeFile(keyFile, cert.keyPem);
        if (BINDS.includes(id)) world.sandbox.bindCertificate(bank[id].clientId, cert.certPem);
      }
      existing[id] = { certFile, keyFile, fingerprint: fingerprintOf(await readFile(certFile, "utf8")) };
    }
    // certrotor never creates an AWS secret: docs/cli.md has the owner create it without a value
    const sdk = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.url,
      credentials: aws.credentials,
    });
    await sdk.send(
      new CreateSecretCommand({ Name: "onboard/api-aws", Tags: [{ Key: "certrotor", Value: "managed" }] }),
    );
    sdk.destroy();
  });
  after(async () => {
    if (worker) await stopWorker(worker);
    await runtime?.close();
    await Promise.all([vault?.stop(), aws?.stop(), redis?.stop()]);
    await world?.stop();
  });

  it("imports into AWS, Vault and the file store, and a worker rotates each: API, manual, portal-signing, single-slot, CA-trusting and API-signing banks", async () => {
    // the bank's CA is not known before it signs: without the token call nothing proves the certificate
    const unproven = await certrotorWith(
      { env: { ONBOARD_CLIENT_SECRET: bank["bank-file"].clientSecret } },
      "import",
      "bank-file",
      "--cert",
      existing["bank-file"].certFile,
      "--key",
      existing["bank-file"].keyFile,
      "--client-secret-env",
      "ONBOARD_CLIENT_SECRET",
      "--no-verify",
      "--config",
      configPath,
    );
    assert.equal(unproven.code, 64, unproven.stderr);
    assert.match(
      unproven.stderr,
      /^certrotor: BAD_ARGUMENT: .*only be proven by a token call; nothing was written/,
    );
    assert.equal(unproven.stderr.trim().split("\n").length, 1, unproven.stderr);
    await assert.rejects(
      runtime.stores.get("main")!.readCurrent({ credentialId: "bank-file", path: "onboard/bank-file" }),
      (error: unknown) => isCertrotorError(error, "NOT_FOUND"),
      "nothing was written",
    );
    const imports = await Promise.all(
      IDS.map((id) =>
        id === "manual-vault"
          ? certrotorWith(
              { stdin: `${bank[id].clientSecret}\n` },
              "import",
              id,
              "--cert",
              existing[id].certFile,
              "--key",
              existing[id].keyFile,
              "--client-secret-stdin",
              "--config",
              configPath,
            )
          : certrotorWith(
              { env: { ONBOARD_CLIENT_SECRET: bank[id].clientSecret } },
              "import",
              id,
              "--cert",
              existing[id].certFile,
              "--key",
              existing[id].keyFile,
              ...(id === "api-aws" ? ["--chain", issuingCa()] : []),
              "--client-secret-env",
              "ONBOARD_CLIENT_SECRET",
              "--config",
              configPath,
            ),
      ),
    );
    for (const [i, id] of IDS.entries()) {
      const run = imports[i]!;
      assert.equal(run.code, 0, `${id}: ${run.stderr}\n${run.stdout}`);
      assert.match(run.stdout, /verified: bank "\w+" issued a token/, id);
      assert.match(run.stdout, /imported: now current/, id);
    }

    await worker.ready;
    const rotations = await Promise.all(IDS.map((id) => cli("rotate", id, "--wait")));
    const taskOf = {} as Record<CaseId, string>;
    for (const [i, id] of IDS.entries()) {
      const run = rotations[i]!;
      assert.equal(run.code, 0, `${id}: ${run.stdout}\n${run.stderr}\n${worker.output()}`);
      const parked = /awaiting registration: rotation rot_\w+ waits on task (task_[0-9a-f]{16})/.exec(
        run.stdout,
      );
      if (id === "manual-vault" || id === "portal-file") {
        assert.ok(parked, `${id} parks on a task: ${run.stdout}`);
        taskOf[id] = parked[1]!;
      } else assert.ok(!parked && !/failed/.test(run.stdout), `${id}: ${run.stdout}`);
    }
    const task = async (id: CaseId): Promise<HumanTask> => {
      const shown = await cli("task", "show", taskOf[id], "--json");
      assert.equal(shown.code, 0, shown.stderr);
      return JSON.parse(shown.stdout) as HumanTask;
    };

    await Promise.all([
      (async () => {
        // the person binds the new certificate in the portal; the worker's token call sees it
        const bind = await task("manual-vault");
        assert.equal(bind.kind, "bind-certificate");
        assert.equal(bind.portalUrl, PORTAL);
        const file = join(world.dir, "manual-new.pem");
        await writeFile(file, bind.certPem!);
        await portal("bind", "--client-id", bank["manual-vault"].clientId, "--cert", file);
        // after the grace period the old one is to go: the person unbinds it
        await pollUntil(
          async () =>
            (await runtime.tasks.list({ status: "open", credentialId: "manual-vault" })).find(
              (t) => t.kind === "unbind-certificate",
            ),
          { timeoutMs: 60_000, what: "the unbind-certificate task of manual-vault" },
        );
        await portal(
          "unbind",
          "--client-id",
          bank["manual-vault"].clientId,
          "--cert",
          existing["manual-vault"].certFile,
        );
      })(),
      (async () => {
        // the person uploads the CSR to the portal and hands its certificate to certrotor
        const sign = await task("portal-file");
        assert.equal(sign.kind, "sign-csr");
        const csrFile = join(world.dir, "portal-new.csr");
        await writeFile(csrFile, sign.csrPem!);
        await portal("sign", "--csr", csrFile, "--out", join(world.dir, "portal-new.pem"));
        const done = await cli(
          "task",
          "complete",
          taskOf["portal-file"],
          "--cert",
          join(world.dir, "portal-new.pem"),
        );
        assert.equal(done.code, 0, done.stderr);
      })(),
    ]);

    for (const id of IDS) {
      const record = await pollUntil(
        async () => {
          const latest = await runtime.journal.latest(id);
          return latest?.status === "succeeded" ? latest : undefined;
        },
        { timeoutMs: 60_000, what: `the rotation of ${id} succeeded (worker output: ${worker.output()})` },
      );
      const credential = await runtime.credential(id);
      const deps = runtime.depsFor(credential);
      const current = (await deps.store.readCurrent(credential.ref)).material;
      assert.equal(current.fingerprint, record.newFingerprint, `${id}: the new certificate is current`);
      assert.notEqual(current.fingerprint, existing[id].fingerprint, `${id}: the imported one rotated away`);
      assert.equal(current.clientSecret, bank[id].clientSecret, `${id}: the imported client secret kept`);
      if (BINDS.includes(id))
        assert.deepEqual(bound(id), [current.fingerprint], `${id}: the new one alone bound`);
      else {
        assert.deepEqual(bound(id), [], `${id}: nothing bound at a bank that trusts the CA`);
        assert.ok(
          world.sandbox.logs.some(
            (e) => e.path === "/oauth/token" && e.status === 200 && e.certFingerprint === current.fingerprint,
          ),
          `${id}: a token call proved the new certificate`,
        );
      }
      assert.deepEqual(
        await invariantViolations({
          store: deps.store,
          bank: deps.bank,
          ref: credential.ref,
          clientId: bank[id].clientId,
          ...(id === "manual-vault" ? { bound: () => bound(id) } : {}),
        }),
        [],
        id,
      );
      const actions = (await runtime.journal.auditTrail(id)).map((e) => e.action).reverse();
      assert.equal(actions[0], "imported", `${id}: ${actions.join(", ")}`);
      assert.ok(actions.includes("promoted"), `${id}: ${actions.join(", ")}`);
    }
    const signed = await readFile(join(world.dir, "portal-new.pem"), "utf8");
    const portalCredential = await runtime.credential("portal-file");
    const portalCurrent = await runtime.stores.get("main")!.readCurrent(portalCredential.ref);
    assert.equal(portalCurrent.material.certPem.trim(), signed.trim(), "the portal's certificate is current");
  });
});
