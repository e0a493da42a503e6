/**
 * A consumer of the bank for the certrotor/client tests: a Node app that calls the sandbox's protected
 * endpoint (seed 001's balance call) in a loop through createBankSession, while a worker rotates its
 * credential. One JSON line per call on stdout: the fingerprint of the certificate its agent presented,
 * the token's cnf.x5t#S256 (a certificate thumbprint, not the token) and the status; `rotated` once the
 * call in flight at the session's rotated event has finished. Ends its loop on SIGTERM, closes the session.
 * argv: <options.json> (createBankSession's options, plus `accountId` and `freshTokenEvery`)
 *
 * Plain JavaScript like the crash test's child: on the run's compiled build (CERTROTOR_TEST_CLI) under
 * npm test, on the sources through tsx (loaded by the parent's --import) when its file runs alone.
 */
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const compiled = process.env.CERTROTOR_TEST_CLI;
const base = compiled ? pathToFileURL(join(compiled, "dist", "/")) : new URL("../../", import.meta.url);
const { createBankSession } = await import(new URL("src/client/index.js", base).href);

const { accountId, freshTokenEvery, ...options } = JSON.parse(await readFile(process.argv[2], "utf8"));
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const session = await createBankSession(options);
let rotated;
session.on("rotated", (event) => {
  rotated = event;
});
session.on("error", (error) => print({ error: error.code, message: error.message }));

let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
});

/** GET the balance over `auth`'s agent with its token; resolves the HTTP status. */
function balance(auth) {
  return new Promise((resolve, reject) => {
    const url = new URL(`/public/gw_banking/v1/accounts/${accountId}/balance`, options.bankUrl);
    const req = request(url, { agent: auth.agent, headers: { authorization: auth.authorization } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end();
  });
}

const cnfOf = (token) =>
  JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")).cnf?.["x5t#S256"];

print({ ready: session.fingerprint });
for (let call = 1; !stopping; call++) {
  // every few calls a new token, so the bank's last use of the certificate keeps up with this consumer
  if (call % freshTokenEvery === 0) session.invalidateToken();
  try {
    const auth = await session.auth();
    print({ call, fingerprint: auth.fingerprint, cnf: cnfOf(auth.token), status: await balance(auth) });
  } catch (error) {
    print({ call, failed: error.code ?? "error", message: error.message });
  }
  if (rotated) {
    print({ rotated, afterCall: call });
    rotated = undefined;
  }
  await new Promise((resolve) => setTimeout(resolve, 25)); // pacing of the load, not a wait for an event
}
await session.close();
print({ closed: true });
