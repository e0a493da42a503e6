/**
 * The console in a real headless Chromium (Debian's package, driven by playwright-core; no browser
 * download) against a real worker on a real Redis that mounts the console (console.enabled): log in and
 * filter the fleet, open a credential, rotate it and watch the rotation finish, be refused as a viewer,
 * without a login and with a bad CSRF token; and at a credential whose bank's portal signs (issuer kind
 * bank-portal), download the sign-csr task's CSR, have the sandbox's portal sign it, upload the signed
 * certificate, and see the worker carry the rotation on to the end; roll a rotated credential back from its
 * page. Every page is screenshotted into a temp dir (its path is
 * printed), and every page and API answer the browser saw is scanned for secret material.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { startWorker, type WorkerHandle } from "../../jobs/worker.js";
import { plainSession } from "../../src/bank/mtls.js";
import { send } from "../../src/bank/transport.js";
import { configSchema } from "../../src/config/schema.js";
import { fingerprintOf } from "../../src/crypto/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { pollUntil } from "../../src/util/poll.js";
import { type RedisServer, startRedis } from "../harness/redis.js";
import { days } from "../fixtures/pki.js";
import { aWorld, type TestWorld } from "../fixtures/world.js";
import { queueConfig } from "../queue/helpers.js";
import { assertNoSecretIn, consoleUsers, PASSWORDS, withConsole } from "./helpers.js";

const silent = createLogger({ level: "silent" });

describe("console in a browser", () => {
  let redis: RedisServer;
  let world: TestWorld;
  let worker: WorkerHandle;
  let browser: Browser;
  let base: string;
  let shots: string;
  /** Every page and API answer the browser received (assets aside), scanned at the end. */
  const seen: Array<{ url: string; body: string }> = [];
  const secrets = new Set<string>();

  const collectSecrets = async (): Promise<void> => {
    for (const c of world.credentials) {
      secrets.add(c.clientSecret);
      const credential = await worker.runtime.credential(c.id);
      const store = worker.runtime.stores.get("main")!;
      const current = await store.readCurrent(credential.ref);
      const previous = await store.readPrevious(credential.ref);
      for (const { material } of previous ? [current, previous] : [current])
        for (const value of [material.keyPem, material.pfxBase64, material.pfxPassphrase])
          if (value) secrets.add(value);
    }
  };

  const newContext = async (colorScheme: "light" | "dark" = "dark"): Promise<BrowserContext> => {
    const context = await browser.newContext({ colorScheme });
    context.on("response", (response) => {
      const url = response.url();
      if (url.includes("/assets/")) return;
      void response.text().then(
        (body) => seen.push({ url, body }),
        () => undefined, // a redirect has no body
      );
    });
    return context;
  };

  const logIn = async (context: BrowserContext, name: keyof typeof PASSWORDS): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/login\?next=%2F$/, "a visitor is sent to the login page");
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Password").fill(PASSWORDS[name]);
    await page.getByRole("button", { name: "Log in" }).press("Enter");
    await page.waitForURL(`${base}/`);
    return page;
  };

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  before(async () => {
    redis = await startRedis();
    world = await aWorld({
      store: "file",
      issuer: "local-ca",
      credentials: 3,
      expiresInMs: (i) => days(20 + i * 60),
    });
    // cred-2's certificates are signed in the bank's portal; a parked rotation looks again within 0.5 s
    const signingCa = join(world.dir, "bank-signing-ca.pem");
    await writeFile(signingCa, world.sandbox.bankCaPem);
    const portalSigned = configSchema.parse({
      ...world.config,
      issuers: {
        ...world.config.issuers,
        portal: { kind: "bank-portal", bank: "sandbox", caFile: signingCa },
      },
      credentials: world.config.credentials.map((c) => (c.id === "cred-2" ? { ...c, issuer: "portal" } : c)),
      tasks: { ...world.config.tasks, pollEvery: 200, pollMax: 500 },
    });
    const config = withConsole(queueConfig(portalSigned, redis.url), await consoleUsers(), { enabled: true });
    worker = await startWorker(config, {
      logger: silent,
      port: 0,
      host: "127.0.0.1",
      schedules: false,
      consolePort: 0,
    });
    assert.ok(worker.console, "the worker mounts the console");
    base = worker.console.url;
    await collectSecrets();
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
    shots = await mkdtemp(join(tmpdir(), "certrotor-console-screenshots-"));
    console.log(`# console screenshots: ${shots}`);
  });
  after(async () => {
    await browser?.close();
    await worker?.stop();
    await world?.stop();
    await redis?.stop();
  });

  it("refuses an action without a login", async () => {
    const context = await newContext();
    try {
      const response = await context.request.post(`${base}/credentials/cred-0/actions/rotate`, {
        form: { _csrf: "x" },
        maxRedirects: 0,
      });
      assert.equal(response.status(), 401);
      assert.equal((await response.json()).error.code, "CONSOLE_UNAUTHENTICATED");
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await shot(page, "01-login");
    } finally {
      await context.close();
    }
  });

  it("logs an operator in, shows and filters the fleet, the timeline and a credential, and rotates it to the end", async () => {
    const context = await newContext();
    try {
      const page = await logIn(context, "alice");
      const rows = page.locator("tbody tr[data-credential]");
      assert.equal(await rows.count(), 3);
      assert.match((await page.locator("#fleet-summary").textContent()) ?? "", /^3 credentials/);
      await shot(page, "02-fleet");

      // live filtering: htmx swaps the rows in without a reload, and the URL follows
      await page.getByLabel("Search").fill("cred-2");
      await page.locator('tbody tr[data-credential="cred-0"]').waitFor({ state: "detached" });
      assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-credential"))), [
        "cred-2",
      ]);
      assert.match(page.url(), /q=cred-2/);
      await shot(page, "03-fleet-filtered");

      await page.getByRole("link", { name: "Timeline" }).click();
      await page.waitForURL(`${base}/timeline`);
      assert.equal(await page.locator("svg rect.expiry").count(), 3);
      await shot(page, "04-timeline");

      await page.getByRole("link", { name: "Fleet" }).click();
      await page.getByRole("link", { name: "cred-0", exact: true }).click();
      await page.waitForURL(`${base}/credentials/cred-0`);
      const fingerprint = world.credentials[0]!.fingerprint;
      assert.match((await page.locator("dd.mono").first().textContent()) ?? "", new RegExp(fingerprint));
      await shot(page, "05-credential");

      await page.getByRole("link", { name: "Rotate now…" }).click();
      await page.waitForURL(/\/actions\/rotate$/);
      await shot(page, "06-confirm");
      await page.getByRole("button", { name: "Rotate now" }).click();
      await page.waitForURL(/\/credentials\/cred-0\?queued=/);
      const rotationId = new URL(page.url()).searchParams.get("queued")!;
      // the rotations table polls itself (htmx) while the rotation is queued or running: no reload
      const cell = page.locator(`tr[data-rotation="${rotationId}"] td:nth-child(3)`);
      await cell
        .filter({ hasText: /^(succeeded|retire-due|failed|rolled-back)$/ })
        .waitFor({ timeout: 60_000 });
      const status = await cell.textContent();
      await page.reload();
      assert.equal(await page.locator("h1 .state").textContent(), "ok", "the page reads its state live");
      assert.equal(status, "succeeded");
      const requested = page.locator("tr", { hasText: "rotation-requested" });
      assert.match((await requested.textContent()) ?? "", /alice/, "the audit actor is the operator's name");
      assert.doesNotMatch(
        (await page.locator("dd.mono").first().textContent()) ?? "",
        new RegExp(fingerprint),
      );
      await shot(page, "07-rotated");

      await page.goto(`${base}/tasks`);
      await shot(page, "08-tasks");
      const api = await context.request.get(`${base}/api/fleet?size=25`);
      seen.push({ url: api.url(), body: await api.text() });
      assert.equal((await api.json()).total, 3);
      const ics = await context.request.get(`${base}/calendar.ics`);
      seen.push({ url: ics.url(), body: await ics.text() });
      assert.match(await ics.text(), /^BEGIN:VCALENDAR\r\n/);
    } finally {
      await context.close();
    }
  });

  it("refuses a form whose CSRF token was tampered with", async () => {
    const context = await newContext();
    try {
      const page = await logIn(context, "alice");
      await page.goto(`${base}/credentials/cred-1/actions/rotate`);
      await page.locator(`main input[name="_csrf"]`).evaluate((input) => {
        // the page's own input element (no DOM lib in this tsconfig)
        (input as unknown as { value: string }).value = "tampered-token";
      });
      const answer = page.waitForResponse((r) => r.request().method() === "POST");
      await page.getByRole("button", { name: "Rotate now" }).click();
      assert.equal((await answer).status(), 403);
      await page.locator("[data-code]").waitFor();
      assert.equal(await page.locator("[data-code]").getAttribute("data-code"), "CONSOLE_CSRF_INVALID");
      await shot(page, "09-bad-csrf");
      assert.equal((await worker.runtime.journal.history("cred-1")).length, 0, "nothing was queued");
    } finally {
      await context.close();
    }
  });

  it("refuses a viewer's action", async () => {
    const context = await newContext("light");
    try {
      const page = await logIn(context, "victor");
      await shot(page, "11-fleet-light");
      await page.goto(`${base}/credentials/cred-2`);
      assert.match((await page.locator("#h-actions + p").textContent()) ?? "", /need the operator role/);
      const answer = await page.goto(`${base}/credentials/cred-2/actions/rotate`);
      assert.equal(answer?.status(), 403);
      assert.equal(await page.locator("[data-code]").getAttribute("data-code"), "CONSOLE_FORBIDDEN");
      await shot(page, "10-viewer-refused");
      assert.equal((await worker.runtime.journal.history("cred-2")).length, 0);
    } finally {
      await context.close();
    }
  });

  it("opens a credential and downloads a CSR, uploads a signed certificate that completes the task, and the rotation finishes", async () => {
    const context = await newContext();
    try {
      const page = await logIn(context, "alice");
      await page.goto(`${base}/credentials/cred-2/actions/rotate`);
      await page.getByRole("button", { name: "Rotate now" }).click();
      await page.waitForURL(/\/credentials\/cred-2\?queued=/);
      const rotationId = new URL(page.url()).searchParams.get("queued")!;
      const task = await pollUntil(
        async () => (await worker.runtime.tasks.list({ status: "open", credentialId: "cred-2" }))[0],
        { timeoutMs: 30_000, what: "the rotation of cred-2 to open its sign-csr task" },
      );
      assert.equal(task.kind, "sign-csr");
      await page.reload();
      const item = page.locator(`li[data-task="${task.id}"]`);
      await shot(page, "12-credential-task");

      const download = page.waitForEvent("download");
      await item.getByRole("link", { name: "Download CSR" }).click();
      const csrPem = await readFile((await (await download).path())!, "utf8");
      assert.equal(csrPem, task.csrPem, "the download is the task's CSR");

      // the person: the bank's portal signs the CSR (the route `certrotor sandbox portal sign` calls)
      const session = plainSession({
        caPem: world.sandbox.serverCaPem,
        minVersion: "TLSv1.2",
        maxVersion: "TLSv1.3",
      });
      let signedPem: string;
      try {
        const answer = await send({
          method: "POST",
          url: new URL(`${world.sandbox.portalUrl}/certificate-requests`),
          headers: { authorization: `Bearer ${world.sandbox.portalApiKey}` },
          body: { csr: csrPem },
          session,
          timeoutMs: 15_000,
        });
        assert.equal(answer.status, 201);
        signedPem = (answer.json as { certificate_pem: string }).certificate_pem;
      } finally {
        session.agent.destroy();
      }
      const signedFile = join(shots, "signed.pem");
      await writeFile(signedFile, signedPem);

      await item.getByLabel("Signed certificate (PEM)").setInputFiles(signedFile);
      await item.getByRole("button", { name: "Upload and complete" }).click();
      await page.waitForURL(/\/tasks\?completed=/);
      assert.match((await page.locator("main [role=status]").textContent()) ?? "", /completed/);
      assert.equal(await page.locator(`tr[data-task="${task.id}"]`).count(), 0, "no longer open");
      await shot(page, "13-task-completed");
      const closed = await worker.runtime.tasks.get(task.id);
      assert.deepEqual([closed?.status, closed?.closedBy], ["done", "operator:alice"]);

      // the worker's next look at the parked rotation goes on from register to the end
      const finished = await pollUntil(
        async () => {
          const latest = await worker.runtime.journal.latest("cred-2");
          return latest?.rotationId === rotationId &&
            latest.status !== "awaiting-registration" &&
            latest.status !== "running"
            ? latest.status
            : undefined;
        },
        { timeoutMs: 30_000, what: "the rotation of cred-2 to finish" },
      );
      assert.equal(finished, "succeeded");
      await page.goto(`${base}/credentials/cred-2`);
      assert.match(
        (await page.locator("dd.mono").first().textContent()) ?? "",
        new RegExp(fingerprintOf(signedPem)),
        "the portal's certificate is current",
      );
      assert.match(
        (await page.locator("tr", { hasText: "issued" }).first().textContent()) ?? "",
        /by=operator:alice/,
      );
      await shot(page, "14-portal-rotated");
    } finally {
      await context.close();
    }
  });

  it("rolls a rotated credential back from its page, with a reason and the operator's name in the audit trail", async () => {
    const context = await newContext();
    try {
      const page = await logIn(context, "alice");
      await page.goto(`${base}/credentials/cred-0`);
      await page.getByRole("link", { name: "Roll back…" }).click();
      await page.waitForURL(/\/credentials\/cred-0\/rollback$/);
      await page.getByLabel(/^Reason/).fill("consumers fail with the new certificate");
      await shot(page, "15-rollback-confirm");
      await page.getByRole("button", { name: "Roll back" }).click();
      await page.waitForURL(/\/credentials\/cred-0\?rolledBack=1$/);
      const fingerprint = world.credentials[0]!.fingerprint;
      assert.match(
        (await page.locator("dd.mono").first().textContent()) ?? "",
        new RegExp(fingerprint),
        "the original certificate is current again",
      );
      const event = (await page.locator("tr", { hasText: "rolled-back" }).textContent()) ?? "";
      assert.match(event, /operator=alice/);
      assert.match(event, /reason=consumers fail with the new certificate/);
      await shot(page, "16-rolled-back");
    } finally {
      await context.close();
    }
  });

  it("showed no secret material in any page or API answer", async () => {
    await collectSecrets(); // the rotated credential's new key too
    assert.ok(seen.length >= 15, `pages seen: ${seen.length}`);
    for (const { url, body } of seen) assertNoSecretIn(url, body, secrets);
  });
});
