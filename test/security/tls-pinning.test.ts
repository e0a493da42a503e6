/**
 * TLS verification cannot be switched off from the environment. This whole file runs with
 * NODE_TLS_REJECT_UNAUTHORIZED=0 (Node's own switch, also handed to the CLI children) and points every
 * TLS client certrotor has at an impostor: a real HTTPS (or SMTP) server whose certificate comes from a
 * CA the client does not pin. Each must refuse in the handshake, before a byte of the request (API key,
 * client secret, alert, mail) reaches the impostor. A control shows the same clients do connect when
 * the impostor's CA is the pinned one, so each refusal is the pinning at work.
 */
import { requireSlots } from "../../src/bank/capabilities.js";
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createChannel } from "../../src/alerts/index.js";
import { createBankingApi } from "../../src/bank/banking-api.js";
import { configSchema } from "../../src/config/schema.js";
import { isCertrotorError } from "../../src/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { createStore } from "../../src/stores/index.js";
import { SmtpReceiver } from "../alerts/receivers.js";
import { bankConfig, rejection } from "../bank/helpers.js";
import { certrotor } from "../fixtures/cli.js";
import { aCa, aClientCert, aServerCert } from "../fixtures/pki.js";

process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
// Node warns once that the variable makes TLS insecure: that warning is what this file defies
process.removeAllListeners("warning");

interface Impostor {
  url: string;
  /** Requests that got past the handshake. */
  requests: string[];
  caPem: string;
  server: Server;
}

async function anImpostor(): Promise<Impostor> {
  const ca = await aCa({ subject: "CN=Impostor CA,O=somebody else,C=XX" });
  const cert = await aServerCert({ ca, hosts: ["127.0.0.1", "localhost"] });
  const requests: string[] = [];
  const server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end('{"certificates":[]}');
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    caPem: ca.certPem,
    server,
  };
}

const context = { logger: createLogger({ level: "silent" }), timeoutMs: 5_000 };

describe("with NODE_TLS_REJECT_UNAUTHORIZED=0, every TLS client still refuses a CA it does not pin", () => {
  let impostor: Impostor;
  let pinnedCaPem: string;
  let pinnedCaFile: string;
  let impostorCaFile: string;
  /** The CA files and the CLI's config, removed at the end. */
  let files: string;

  before(async () => {
    impostor = await anImpostor();
    pinnedCaPem = (await aCa({ subject: "CN=The CA certrotor pins,O=us,C=BR" })).certPem;
    files = await mkdtemp(join(tmpdir(), "certrotor-tls-pinning-"));
    pinnedCaFile = join(files, "pinned-ca.pem");
    impostorCaFile = join(files, "impostor-ca.pem");
    await writeFile(pinnedCaFile, pinnedCaPem);
    await writeFile(impostorCaFile, impostor.caPem);
  });
  after(async () => {
    impostor.server.closeAllConnections();
    impostor.server.close();
    await rm(files, { recursive: true, force: true });
  });

  const assertNothingArrived = (before: number): void =>
    assert.equal(
      impostor.requests.length,
      before,
      `requests that reached the impostor: ${impostor.requests}`,
    );

  it("the bank adapter: admin calls and mTLS token calls, pinned or on the default roots", async () => {
    const client = await aClientCert({ ca: await aCa() });
    const material = { certPem: client.certPem, keyPem: client.keyPem };
    const before = impostor.requests.length;
    for (const caPem of [pinnedCaPem, undefined]) {
      const bank = createBankingApi(
        "b",
        bankConfig({ url: impostor.url, adminApiKey: "admin-key-must-not-leave" }, { retries: 0 }),
        caPem ? { caPem } : {},
      );
      try {
        const admin = await rejection(() => requireSlots(bank).listSlots("acme"));
        assert.ok(isCertrotorError(admin, "TLS_HANDSHAKE_FAILED"), String(admin));
        const token = await rejection(() =>
          bank.requestToken(material, { clientId: "acme", clientSecret: "secret-must-not-leave" }),
        );
        assert.ok(isCertrotorError(token, "TLS_HANDSHAKE_FAILED"), String(token));
      } finally {
        await bank.close();
      }
    }
    assertNothingArrived(before);
    // control: pinned to the impostor's CA, the same adapter gets through
    const trusting = createBankingApi("b", bankConfig({ url: impostor.url, adminApiKey: "k" }), {
      caPem: impostor.caPem,
    });
    try {
      assert.deepEqual(await requireSlots(trusting).listSlots("acme"), []);
    } finally {
      await trusting.close();
    }
    assert.equal(impostor.requests.length, before + 1);
  });

  it("the webhook, Slack and PagerDuty channels", async () => {
    const before = impostor.requests.length;
    const channels = configSchema.parse({
      alerts: {
        channels: {
          hook: {
            kind: "webhook",
            url: `${impostor.url}/hook`,
            secret: "s".repeat(32),
            caFile: pinnedCaFile,
          },
          hookRoots: { kind: "webhook", url: `${impostor.url}/hook`, secret: "s".repeat(32) },
          slack: { kind: "slack", url: `${impostor.url}/services/T/B/x`, caFile: pinnedCaFile },
          pd: { kind: "pagerduty", routingKey: "rk", url: `${impostor.url}/v2/enqueue` },
        },
      },
    }).alerts.channels;
    const alert = (await import("../../src/alerts/build.js")).testAlert("x", new Date(), "trigger");
    for (const [name, config] of Object.entries(channels)) {
      const error = await rejection(() => createChannel(name, config, context).send(alert));
      assert.ok(isCertrotorError(error, "ALERT_DELIVERY_FAILED"), `${name}: ${String(error)}`);
    }
    assertNothingArrived(before);
    const trusting = createChannel(
      "hook",
      { ...channels.hook!, ...{ caFile: impostorCaFile } } as typeof channels.hook & object,
      context,
    );
    await trusting.send(alert);
    assert.equal(impostor.requests.length, before + 1, "control: the impostor's CA pinned, it arrives");
  });

  it("the email channel, over STARTTLS and over implicit TLS", async () => {
    const login = { user: "alerts@example.test", password: "smtp-password-must-not-leave" };
    const smtp = await SmtpReceiver.start(login);
    try {
      const email = (extra: Record<string, unknown>) =>
        configSchema.parse({
          alerts: {
            channels: {
              mail: {
                kind: "email",
                host: "127.0.0.1",
                port: smtp.port,
                from: "certrotor@example.test",
                to: ["ops@example.test"],
                user: login.user,
                password: login.password,
                caFile: pinnedCaFile,
                ...extra,
              },
            },
          },
        }).alerts.channels.mail!;
      const alert = (await import("../../src/alerts/build.js")).testAlert("mail", new Date(), "trigger");
      const starttls = await rejection(() => createChannel("mail", email({}), context).send(alert));
      assert.ok(isCertrotorError(starttls, "ALERT_DELIVERY_FAILED"), String(starttls));
      assert.equal(smtp.mails.length, 0, "nothing was sent to a server that could not be verified");
      const port = Number(new URL(impostor.url).port);
      const before = impostor.requests.length;
      const implicit = await rejection(() =>
        createChannel("mail", email({ secure: true, port }), context).send(alert),
      );
      assert.ok(isCertrotorError(implicit, "ALERT_DELIVERY_FAILED"), String(implicit));
      assertNothingArrived(before);
    } finally {
      await smtp.stop();
    }
  });

  it("the AWS Secrets Manager client", async () => {
    const before = impostor.requests.length;
    const store = await createStore("aws", {
      kind: "aws",
      region: "us-east-1",
      endpoint: impostor.url,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "aws-secret-must-not-leave" },
      maxAttempts: 1,
      connectTimeout: 3_000,
      requestTimeout: 5_000,
      consistencyWindow: 0,
    });
    try {
      const error = await rejection(() => store.readCurrent({ credentialId: "c", path: "certrotor/c" }));
      assert.ok(isCertrotorError(error), String(error));
      assert.ok(/certificate|TLS|SSL/i.test(`${error.message} ${String(error.cause)}`), error.message);
    } finally {
      await store.close();
    }
    assertNothingArrived(before);
  });

  it("a CLI run: alert test through a webhook pinned to another CA fails with exit 2", async () => {
    const config = join(files, "alert-config.json");
    await writeFile(
      config,
      JSON.stringify({
        alerts: {
          channels: {
            hook: {
              kind: "webhook",
              url: `${impostor.url}/hook`,
              secret: "s".repeat(32),
              caFile: pinnedCaFile,
            },
          },
        },
      }),
    );
    const before = impostor.requests.length;
    const run = await certrotor("alert", "test", "--channel", "hook", "--config", config);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      /^certrotor: ALERT_DELIVERY_FAILED: alert channel "hook" \(webhook\) could not be reached/m,
    );
    assertNothingArrived(before);
  });
});
