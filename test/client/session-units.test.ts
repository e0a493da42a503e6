/**
 * createBankSession in one process, on PEM files and the sandbox bank: what a rotation does to the agent,
 * the tokens and an exchange in flight, and what it refuses. (The end-to-end run with a worker is
 * session.test.ts.)
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import type { Agent } from "node:https";
import { request } from "node:https";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BankAuth, createBankSession, type Rotated } from "../../src/client/index.js";
import type { CertrotorError } from "../../src/errors.js";
import { type SandboxHandle, startSandbox } from "../../src/sandbox/server.js";
import { pollUntil } from "../queue/helpers.js";
import { aCa, aClientCert, type ClientCert, type PkiMaterial } from "../fixtures/pki.js";

let ca: PkiMaterial;
let sandbox: SandboxHandle;
let dir: string;
before(async () => {
  ca = await aCa();
  sandbox = await startSandbox({ clientCaPems: [ca.certPem] });
  dir = await mkdtemp(join(tmpdir(), "certrotor-session-"));
});
after(async () => {
  await sandbox.stop();
  await rm(dir, { recursive: true, force: true });
});

const thumbprint = (hex: string): string => Buffer.from(hex, "hex").toString("base64url");
const cnfOf = (token: string): unknown =>
  (
    JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as {
      cnf?: Record<string, unknown>;
    }
  ).cnf?.["x5t#S256"];

/** Writes the pair as an agent does: each file to a temp name, then renamed into place (key first). */
async function install(files: { certFile: string; keyFile: string }, cert: ClientCert): Promise<void> {
  await writeFile(`${files.keyFile}.tmp`, cert.keyPem);
  await writeFile(`${files.certFile}.tmp`, cert.certPem);
  await rename(`${files.keyFile}.tmp`, files.keyFile);
  await rename(`${files.certFile}.tmp`, files.certFile);
}

function balance(auth: BankAuth): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL("/public/gw_banking/v1/accounts/acc-1/balance", sandbox.url);
    const req = request(url, { agent: auth.agent, headers: { authorization: auth.authorization } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Open connections of `agent` (a destroyed socket leaves the pool only at its close event). */
const socketsOf = (agent: Agent): number =>
  [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)]
    .flatMap((list) => list ?? [])
    .filter((socket) => !socket.destroyed).length;

async function aCredential(name: string) {
  const { clientId, clientSecret } = sandbox.addCredential({});
  const [first, second] = [await aClientCert({ ca }), await aClientCert({ ca })];
  sandbox.bindCertificate(clientId, first.certPem);
  sandbox.bindCertificate(clientId, second.certPem);
  const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  await install(files, first);
  return { clientId, clientSecret, first, second, files };
}

describe("createBankSession", () => {
  it("moves agent and token to the new certificate, keeps a token until then, and closes the old agent's idle sockets", async () => {
    const c = await aCredential("move");
    const session = await createBankSession({
      ...c.files,
      bankUrl: sandbox.url,
      ca: sandbox.serverCaPem,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      everyMs: 30,
    });
    try {
      const tokenCalls = (fingerprint: string) =>
        sandbox.logs.filter((e) => e.endpoint === "token" && e.certFingerprint === fingerprint).length;
      const before = await session.auth();
      assert.equal(before.fingerprint, c.first.fingerprint);
      assert.equal(cnfOf(before.token), thumbprint(c.first.fingerprint));
      assert.equal(await balance(before), 200);
      assert.equal((await session.auth()).token, before.token, "the token is reused");
      assert.equal(tokenCalls(c.first.fingerprint), 1);
      assert.ok(socketsOf(before.agent) > 0, "the agent keeps its connection alive");

      const rotated = once(session, "rotated");
      await install(c.files, c.second);
      const [event] = (await rotated) as [Rotated];
      assert.deepEqual(
        { old: event.oldFingerprint, new: event.newFingerprint },
        { old: c.first.fingerprint, new: c.second.fingerprint },
      );
      assert.equal(session.fingerprint, c.second.fingerprint);
      assert.equal(socketsOf(before.agent), 0, "the old agent's idle connection is closed");

      const moved = await session.auth();
      assert.notEqual(moved.agent, before.agent);
      assert.notEqual(moved.token, before.token, "the old certificate's token is dropped");
      assert.equal(cnfOf(moved.token), thumbprint(c.second.fingerprint));
      assert.equal(tokenCalls(c.second.fingerprint), 1);
      assert.equal(await balance(moved), 200);
      const shown = JSON.stringify([event, moved, session.describe()]);
      assert.ok(
        !shown.includes(moved.token) && !shown.includes(c.clientSecret) && !shown.includes("PRIVATE"),
      );
    } finally {
      await session.close();
    }
  });

  it("lets an exchange in flight on the old agent finish, then destroys that agent", async () => {
    const c = await aCredential("drain");
    const session = await createBankSession({
      ...c.files,
      bankUrl: sandbox.url,
      ca: sandbox.serverCaPem,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      everyMs: 30,
    });
    try {
      const old = await session.auth();
      sandbox.setFaults({ balance: { latencyMs: 400 } });
      const slow = balance(old);
      // on the wire: the old agent holds the exchange's connection
      await pollUntil(async () => (socketsOf(old.agent) > 0 ? true : undefined), 5_000, "a connection");
      const rotated = once(session, "rotated");
      await install(c.files, c.second);
      await rotated;
      assert.equal(await slow, 200, "the exchange begun on the old certificate completes");
      sandbox.setFaults({});
      await pollUntil(async () => (socketsOf(old.agent) === 0 ? true : undefined), 5_000, "old agent closed");
      assert.equal(await balance(await session.auth()), 200);
    } finally {
      sandbox.setFaults({});
      await session.close();
    }
  });

  it("refuses files without client credentials, naming them, and reports a bad change as error without switching", async () => {
    const c = await aCredential("refuse");
    await assert.rejects(
      createBankSession({ ...c.files, bankUrl: sandbox.url, ca: sandbox.serverCaPem }),
      (error: CertrotorError) => {
        assert.equal(error.code, "BAD_ARGUMENT");
        assert.match(error.message, /refuse\.pem/);
        return true;
      },
    );
    const session = await createBankSession({
      ...c.files,
      bankUrl: sandbox.url,
      ca: sandbox.serverCaPem,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      everyMs: 30,
    });
    try {
      const failed = once(session, "error");
      await writeFile(c.files.keyFile, c.second.keyPem); // the key of another certificate
      const [error] = (await failed) as [CertrotorError];
      assert.equal(error.code, "KEY_MISMATCH");
      assert.ok(!error.message.includes("PRIVATE") && !error.message.includes(c.clientSecret));
      assert.equal(session.fingerprint, c.first.fingerprint);
    } finally {
      await session.close();
    }
  });
});
