/**
 * The console's server without a browser (fastify inject) on a file-state installation: login, sessions
 * and their cookies, CSRF, roles, the rate limit, fleet paging, the .ics feed, rollback refusals, and the
 * tasks of a portal-signing bank (CSR download, upload refusals) read from the real task store.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import ICAL from "ical.js";
import type { FastifyInstance } from "fastify";
import { buildFleet } from "../../src/console/fleet.js";
import { buildConsole } from "../../src/console/server.js";
import { taskViewOf } from "../../src/console/tasks.js";
import { createLogger } from "../../src/observability/logger.js";
import { runRotation } from "../../src/rotation/run.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { days } from "../fixtures/pki.js";
import {
  assertNoSecretIn,
  consoleUsers,
  cookieOf,
  csrfOf,
  login,
  PASSWORDS,
  withConsole,
} from "./helpers.js";

const silent = createLogger({ level: "silent" });

describe("console server", () => {
  let world: TestWorld;
  let runtime: Runtime;
  let app: FastifyInstance;
  const secrets = new Set<string>();

  before(async () => {
    world = await aWorld({
      store: "file",
      issuer: "local-ca",
      credentials: 3,
      expiresInMs: (i) => days(3 + i * 40),
    });
    runtime = await createRuntime(withConsole(world.config, await consoleUsers()), { logger: silent });
    for (const c of world.credentials) {
      secrets.add(c.clientSecret);
      const credential = await runtime.credential(c.id);
      const current = await runtime.stores.get("main")!.readCurrent(credential.ref);
      for (const value of [
        current.material.keyPem,
        current.material.pfxBase64,
        current.material.pfxPassphrase,
      ])
        if (value) secrets.add(value);
    }
    app = await buildConsole({ runtime, logger: silent });
  });
  after(async () => {
    await app?.close();
    await runtime?.close();
    await world?.stop();
  });

  it("sends a visitor without a session to the login page, and answers the API with 401", async () => {
    const page = await app.inject({ method: "GET", url: "/timeline" });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, "/login?next=%2Ftimeline");
    const api = await app.inject({ method: "GET", url: "/api/fleet" });
    assert.equal(api.statusCode, 401);
    assert.equal(api.json().error.code, "CONSOLE_UNAUTHENTICATED");
    const action = await app.inject({
      method: "POST",
      url: "/credentials/cred-0/actions/rotate",
      payload: {},
    });
    assert.equal(action.statusCode, 401);
  });

  it("refuses a wrong password and logs in with the right one, in an HttpOnly SameSite=Strict cookie", async () => {
    const form = await app.inject({ method: "GET", url: "/login" });
    const anonymous = cookieOf(form, "certrotor_session")!;
    const wrong = await app.inject({
      method: "POST",
      url: "/login",
      cookies: { certrotor_session: anonymous },
      payload: { _csrf: csrfOf(form.body), name: "alice", password: "not-her-password" },
    });
    assert.equal(wrong.statusCode, 303);
    assert.match(String(wrong.headers.location), /^\/login\?failed=1/);
    assert.equal(cookieOf(wrong, "certrotor_session"), undefined, "no session for a wrong password");
    const right = await app.inject({
      method: "POST",
      url: "/login",
      cookies: { certrotor_session: anonymous },
      payload: {
        _csrf: csrfOf(form.body),
        name: "alice",
        password: PASSWORDS.alice,
        next: "//evil.example/",
      },
    });
    assert.equal(right.statusCode, 303);
    assert.equal(right.headers.location, "/", "a next that leaves the origin is dropped");
    const cookie = right.cookies.find((c) => c.name === "certrotor_session")!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.secure, undefined, "plain HTTP on loopback: not Secure (see docs/console.md)");
    const fleet = await app.inject({ method: "GET", url: "/", cookies: { certrotor_session: cookie.value } });
    assert.equal(fleet.statusCode, 200);
    assert.match(fleet.body, /alice \(operator\)/);
  });

  it("refuses a login without the form's CSRF token", async () => {
    const form = await app.inject({ method: "GET", url: "/login" });
    const response = await app.inject({
      method: "POST",
      url: "/login",
      cookies: { certrotor_session: cookieOf(form, "certrotor_session")! },
      payload: { name: "alice", password: PASSWORDS.alice },
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error.code, "CONSOLE_CSRF_INVALID");
  });

  it("refuses an action with another session's CSRF token and a viewer's action, and records nothing", async () => {
    const alice = await login(app, "alice");
    const victor = await login(app, "victor");
    const before = await runtime.journal.auditTrail("cred-0");
    const crossed = await app.inject({
      method: "POST",
      url: "/credentials/cred-0/actions/rotate",
      cookies: { certrotor_session: alice.cookie },
      payload: { _csrf: victor.csrf },
    });
    assert.equal(crossed.statusCode, 403);
    assert.equal(crossed.json().error.code, "CONSOLE_CSRF_INVALID");
    const viewer = await app.inject({
      method: "POST",
      url: "/credentials/cred-0/actions/rotate",
      cookies: { certrotor_session: victor.cookie },
      payload: { _csrf: victor.csrf },
    });
    assert.equal(viewer.statusCode, 403);
    assert.equal(viewer.json().error.code, "CONSOLE_FORBIDDEN");
    const confirm = await app.inject({
      method: "GET",
      url: "/credentials/cred-0/actions/rotate",
      cookies: { certrotor_session: victor.cookie },
      headers: { accept: "text/html" },
    });
    assert.equal(confirm.statusCode, 403);
    assert.match(confirm.body, /CONSOLE_FORBIDDEN/);
    assert.deepEqual(await runtime.journal.auditTrail("cred-0"), before);
  });

  it("refuses an operator's action without a queue (no redis:) with CONSOLE_NO_QUEUE", async () => {
    const alice = await login(app, "alice");
    const response = await app.inject({
      method: "POST",
      url: "/credentials/cred-1/actions/rotate",
      cookies: { certrotor_session: alice.cookie },
      payload: { _csrf: alice.csrf },
    });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().error.code, "CONSOLE_NO_QUEUE");
    assert.deepEqual(await runtime.journal.history("cred-1"), []);
  });

  it("pages, sorts and filters the fleet on the server", async () => {
    const { cookie } = await login(app, "victor");
    const all = await app.inject({
      method: "GET",
      url: "/api/fleet?sort=daysLeft&dir=desc",
      cookies: { certrotor_session: cookie },
    });
    const page = all.json() as {
      total: number;
      rows: Array<{ id: string; daysLeft: number; state: string; boundSlots: number }>;
    };
    assert.equal(page.total, 3);
    assert.deepEqual(
      page.rows.map((r) => r.id),
      ["cred-2", "cred-1", "cred-0"],
    );
    assert.deepEqual(
      page.rows.map((r) => r.boundSlots),
      [1, 1, 1],
    );
    assert.equal(page.rows.find((r) => r.id === "cred-0")!.state, "due", "3 days left: due");
    const searched = await app.inject({
      method: "GET",
      url: "/api/fleet?q=cred-1",
      cookies: { certrotor_session: cookie },
    });
    assert.deepEqual(
      (searched.json() as typeof page).rows.map((r) => r.id),
      ["cred-1"],
    );
    const fragment = await app.inject({
      method: "GET",
      url: "/fleet/rows?state=ok",
      cookies: { certrotor_session: cookie },
    });
    assert.doesNotMatch(fragment.body, /data-credential="cred-0"/);
    assert.match(fragment.body, /data-credential="cred-2"/);
  });

  it("shows a credential with an open human task as awaiting a person, without its PEM", async () => {
    const { task } = await runtime.tasks.open(
      {
        kind: "sign-csr",
        credentialId: "cred-2",
        rotationId: "rot_1",
        bank: "sandbox",
        clientId: world.credentials[2]!.clientId,
        deadline: new Date(Date.now() + days(2)).toISOString(),
        csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
      },
      new Date(),
    );
    try {
      const tasks = taskViewOf(runtime);
      const fleet = await buildFleet(runtime, tasks);
      assert.equal(fleet.rows.find((r) => r.id === "cred-2")!.state, "awaiting-person");
      assert.equal(fleet.rows.find((r) => r.id === "cred-1")!.state, "ok");
      const [view] = await tasks.open("cred-2");
      assert.deepEqual([view!.hasCsr, view!.hasCert, "csrPem" in view!], [true, false, false]);
    } finally {
      await runtime.tasks.update(task.id, { status: "cancelled", closedBy: "test" }, new Date());
    }
  });

  it("refuses a viewer's rollback, and an operator's rollback with no previous material (NO_PREVIOUS on the page), changing nothing", async () => {
    const alice = await login(app, "alice");
    const victor = await login(app, "victor");
    const credential = await runtime.credential("cred-0");
    const before = {
      audit: await runtime.journal.auditTrail("cred-0"),
      current: (await runtime.stores.get("main")!.readCurrent(credential.ref)).material.fingerprint,
    };
    const rollback = (session: { cookie: string; csrf: string }) =>
      app.inject({
        method: "POST",
        url: "/credentials/cred-0/rollback",
        cookies: { certrotor_session: session.cookie },
        headers: { accept: "text/html" },
        payload: { _csrf: session.csrf, reason: "consumers fail with the new certificate" },
      });
    const confirm = await app.inject({
      method: "GET",
      url: "/credentials/cred-0/rollback",
      cookies: { certrotor_session: victor.cookie },
    });
    assert.equal(confirm.json().error.code, "CONSOLE_FORBIDDEN");
    const viewer = await rollback(victor);
    assert.equal(viewer.statusCode, 403);
    assert.match(viewer.body, /data-code="CONSOLE_FORBIDDEN"/);
    const refused = await rollback(alice);
    assert.equal(refused.statusCode, 409);
    assert.match(refused.body, /data-code="NO_PREVIOUS"/);
    assert.match(
      refused.body,
      /Not rolled back, nothing was changed: NO_PREVIOUS: credential &quot;cred-0&quot;: the store holds no previous material/,
    );
    assert.match(refused.body, /name="reason"/, "the form is shown again");
    assert.deepEqual(await runtime.journal.auditTrail("cred-0"), before.audit);
    assert.equal(
      (await runtime.stores.get("main")!.readCurrent(credential.ref)).material.fingerprint,
      before.current,
    );
  });

  it("serves an RFC 5545 calendar of expiries and scheduled rotations to HTTP Basic, filtered by bank", async () => {
    const basic = `Basic ${Buffer.from(`victor:${PASSWORDS.victor}`).toString("base64")}`;
    const refused = await app.inject({ method: "GET", url: "/calendar.ics" });
    assert.equal(refused.statusCode, 401);
    assert.match(String(refused.headers["www-authenticate"]), /^Basic /);
    const response = await app.inject({
      method: "GET",
      url: "/calendar.ics",
      headers: { authorization: basic },
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/calendar/);
    const text = response.body;
    assert.ok(text.endsWith("\r\n"));
    for (const line of text.split("\r\n")) {
      assert.ok(Buffer.byteLength(line) <= 75, `line over 75 octets: ${line}`);
      assert.ok(!line.includes("\n"), "every line ends in CRLF");
    }
    const calendar = new ICAL.Component(ICAL.parse(text));
    const events = calendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
    const expiries = events.filter((e) => e.summary.endsWith(" expires"));
    assert.deepEqual(expiries.map((e) => e.summary).sort(), [
      "cred-0 expires",
      "cred-1 expires",
      "cred-2 expires",
    ]);
    const world0 = world.credentials[0]!;
    const expiry0 = expiries.find((e) => e.summary === "cred-0 expires")!;
    assert.equal(
      expiry0.startDate.toJSDate().getTime() >= Date.now() + days(2),
      true,
      "cred-0 expires in 3 days",
    );
    assert.match(expiry0.description, new RegExp(world0.fingerprint));
    assert.equal(events.filter((e) => e.summary.endsWith("scheduled rotation")).length, 3);
    const other = await app.inject({
      method: "GET",
      url: "/calendar.ics?bank=elsewhere",
      headers: { authorization: basic },
    });
    assert.equal(new ICAL.Component(ICAL.parse(other.body)).getAllSubcomponents("vevent").length, 0);
  });

  it("shows no secret material on any page or API answer", async () => {
    const { cookie } = await login(app, "alice");
    for (const url of [
      "/",
      "/timeline",
      "/tasks",
      "/credentials/cred-0",
      "/api/credentials/cred-0",
      "/api/fleet",
      "/credentials/cred-0/actions/rotate",
      "/credentials/cred-0/rollback",
    ]) {
      const response = await app.inject({ method: "GET", url, cookies: { certrotor_session: cookie } });
      assert.equal(response.statusCode, 200, `${url}: ${response.body.slice(0, 200)}`);
      assertNoSecretIn(url, response.body, secrets);
    }
  });

  it("rate-limits login attempts per address", async () => {
    const limited = await buildConsole({
      runtime: {
        ...runtime,
        config: { ...runtime.config, console: { ...runtime.config.console, loginAttemptsPerMinute: 2 } },
      },
      logger: silent,
    });
    try {
      const form = await limited.inject({ method: "GET", url: "/login" });
      const attempt = () =>
        limited.inject({
          method: "POST",
          url: "/login",
          cookies: { certrotor_session: cookieOf(form, "certrotor_session")! },
          payload: { _csrf: csrfOf(form.body), name: "alice", password: "guess" },
        });
      assert.equal((await attempt()).statusCode, 303);
      assert.equal((await attempt()).statusCode, 303);
      const refused = await attempt();
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.json().error.code, "CONSOLE_RATE_LIMITED");
    } finally {
      await limited.close();
    }
  });
});

describe("console tasks at a bank whose portal signs", () => {
  let world: TestWorld;
  let runtime: Runtime;
  let app: FastifyInstance;
  let taskId: string;
  let csrPem: string;

  before(async () => {
    world = await aWorld({ store: "file", issuer: "bank-portal", bank: "trust-ca" });
    runtime = await createRuntime(withConsole(world.config, await consoleUsers()), { logger: silent });
    const credential = await runtime.credential("cred-0");
    const parked = await runRotation(runtime.depsFor(credential), credential, {
      trigger: "inline",
      force: true,
    });
    assert.equal(parked.status, "awaiting-registration");
    const [task] = await runtime.tasks.list({ status: "open" });
    assert.equal(task?.kind, "sign-csr");
    taskId = task!.id;
    csrPem = task!.csrPem!;
    app = await buildConsole({ runtime, logger: silent });
  });
  after(async () => {
    await app?.close();
    await runtime?.close();
    await world?.stop();
  });

  const upload = (session: { cookie: string }, csrf: string, cert: string) => {
    const boundary = "----certrotor-test";
    const body = [
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="certificate"; filename="signed.pem"\r\nContent-Type: application/x-pem-file\r\n\r\n${cert}\r\n`,
      `--${boundary}--\r\n`,
    ].join("");
    return app.inject({
      method: "POST",
      url: `/tasks/${taskId}/complete`,
      cookies: { certrotor_session: session.cookie },
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, accept: "text/html" },
      payload: body,
    });
  };

  it("lets a viewer download the CSR but not upload, refuses a forged CSRF token and a wrong certificate (TASK_CERT_REJECTED), changing nothing", async () => {
    const alice = await login(app, "alice");
    const victor = await login(app, "victor");
    const credential = await runtime.credential("cred-0");
    const store = runtime.stores.get("main")!;
    const pendingBefore = (await store.readPending(credential.ref))?.material.fingerprint;
    assert.ok(pendingBefore, "the new key waits in the store");
    const auditBefore = await runtime.journal.auditTrail("cred-0");

    const page = await app.inject({
      method: "GET",
      url: "/credentials/cred-0",
      cookies: { certrotor_session: victor.cookie },
    });
    assert.match(page.body, new RegExp(`href="/tasks/${taskId}/csr"`));
    assert.doesNotMatch(page.body, /multipart/, "a viewer gets no upload form");
    const csr = await app.inject({
      method: "GET",
      url: `/tasks/${taskId}/csr`,
      cookies: { certrotor_session: victor.cookie },
    });
    assert.equal(csr.body, csrPem);
    assert.match(String(csr.headers["content-disposition"]), /^attachment; filename="task_\w+\.csr\.pem"/);

    // the current certificate: a real one, but not for the pending key the CSR is of
    const wrong = (await store.readCurrent(credential.ref)).material.certPem;
    const viewer = await upload(victor, victor.csrf, wrong);
    assert.equal(viewer.statusCode, 403);
    assert.match(viewer.body, /data-code="CONSOLE_FORBIDDEN"/);
    const forged = await upload(alice, "forged", wrong);
    assert.match(forged.body, /data-code="CONSOLE_CSRF_INVALID"/);
    const rejected = await upload(alice, alice.csrf, wrong);
    assert.equal(rejected.statusCode, 400);
    assert.match(rejected.body, /data-code="TASK_CERT_REJECTED"/);
    assert.match(rejected.body, /the certificate is refused: KEY_MISMATCH/);

    assert.equal((await runtime.tasks.get(taskId))?.status, "open", "the task is still open");
    assert.equal((await store.readPending(credential.ref))?.material.fingerprint, pendingBefore);
    assert.deepEqual(await runtime.journal.auditTrail("cred-0"), auditBefore);
  });
});
