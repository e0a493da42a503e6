import assert from "node:assert/strict";
import { once } from "node:events";
import { rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { alertFromJob } from "../../src/alerts/build.js";
import { createChannel, createChannels, routeChannels } from "../../src/alerts/index.js";
import type { Alert } from "../../src/alerts/types.js";
import {
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from "../../src/alerts/webhook.js";
import { BANK_HINTS } from "../../src/bank/hints.js";
import { configSchema } from "../../src/config/schema.js";
import { type CertrotorError, isCertrotorError } from "../../src/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { HttpReceiver, SmtpReceiver } from "./receivers.js";

const silent = createLogger({ level: "silent" });
const WEBHOOK_SECRET = "whsec-0123456789abcdef-test";
const context = { logger: silent, timeoutMs: 5_000 };

function failedAlert(): Alert {
  return alertFromJob({
    kind: "verify-failed-rolled-back",
    episode: "certrotor/payments-prod/verify-failed-rolled-back",
    credentialId: "payments-prod",
    clientId: "cli_123",
    rotationId: "rot_abc",
    subject: "CN=payments-0, O=Test Fintech Ltda, C=BR",
    fingerprint: "ab".repeat(32),
    notAfter: "2030-01-01T00:00:00.000Z",
    step: "verify",
    errorCode: "IP_NOT_ALLOWED",
    message: "the bank refused the token call: 403 Forbidden <egress> & more",
    hint: BANK_HINTS.IP_NOT_ALLOWED,
    at: new Date().toISOString(),
  });
}

async function rejection(promise: Promise<unknown>): Promise<CertrotorError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      isCertrotorError(error, "ALERT_DELIVERY_FAILED"),
      `expected ALERT_DELIVERY_FAILED, got ${error}`,
    );
    return error;
  }
  assert.fail("expected a delivery failure");
}

describe("alert channels against real receivers", () => {
  let receiver: HttpReceiver;
  before(async () => {
    receiver = await HttpReceiver.start();
  });
  after(async () => {
    await receiver.stop();
  });

  it("posts the webhook as JSON whose signature verifies with the channel secret, and not after any change", async () => {
    const channel = createChannel(
      "hook",
      { kind: "webhook", url: receiver.url("/hook"), secret: WEBHOOK_SECRET },
      context,
    );
    const alert = failedAlert();
    await channel.send(alert);
    const got = receiver.requests.at(-1)!;
    assert.equal(got.path, "/hook");
    assert.match(String(got.headers["content-type"]), /application\/json/);
    const timestamp = String(got.headers[TIMESTAMP_HEADER]);
    const signature = String(got.headers[SIGNATURE_HEADER]);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(WEBHOOK_SECRET, timestamp, got.raw, signature, 300_000), true);
    assert.equal(verifyWebhookSignature(WEBHOOK_SECRET, timestamp, `${got.raw} `, signature, 300_000), false);
    assert.equal(
      verifyWebhookSignature("another-secret-of-16+", timestamp, got.raw, signature, 300_000),
      false,
    );
    const later = (Number(timestamp) + 301) * 1000;
    assert.equal(
      verifyWebhookSignature(WEBHOOK_SECRET, timestamp, got.raw, signature, 300_000, later),
      false,
    );
    assert.equal(verifyWebhookSignature(WEBHOOK_SECRET, "abc", got.raw, signature, 300_000), false);
    assert.deepEqual(
      {
        kind: got.json.kind,
        action: got.json.action,
        severity: got.json.severity,
        dedupKey: got.json.dedupKey,
        credentialId: got.json.credentialId,
        clientId: got.json.clientId,
        rotationId: got.json.rotationId,
        fingerprint: got.json.fingerprint,
        notAfter: got.json.notAfter,
        step: got.json.step,
        errorCode: got.json.errorCode,
        errorSummary: got.json.errorSummary,
        hint: got.json.hint,
      },
      {
        kind: "verify-failed-rolled-back",
        action: "trigger",
        severity: "critical",
        dedupKey: "certrotor/payments-prod/verify-failed-rolled-back",
        credentialId: "payments-prod",
        clientId: "cli_123",
        rotationId: "rot_abc",
        fingerprint: "ab".repeat(32),
        notAfter: "2030-01-01T00:00:00.000Z",
        step: "verify",
        errorCode: "IP_NOT_ALLOWED",
        errorSummary: "403 Forbidden: the egress IP is not in the credential's allowlist.",
        hint: BANK_HINTS.IP_NOT_ALLOWED,
      },
    );
  });

  it("gives each alert event one id, in a header and in the signed body: the same on a retry, another for another alert", async () => {
    const channel = createChannel(
      "hook",
      { kind: "webhook", url: receiver.url("/hook"), secret: WEBHOOK_SECRET },
      context,
    );
    const first = failedAlert();
    await channel.send(first);
    await channel.send(first); // a retried delivery of the same alert
    await channel.send({ ...first, at: new Date(Date.parse(first.at) + 1).toISOString() });
    const [a, b, c] = receiver.requests.slice(-3);
    const ids = [a, b, c].map((got) => String(got!.headers[EVENT_ID_HEADER]));
    for (const [i, got] of [a, b, c].entries()) {
      assert.match(ids[i]!, /^evt_[0-9a-f]{32}$/);
      assert.equal(got!.json.eventId, ids[i], "the body carries the id, under the signature");
    }
    assert.equal(ids[0], ids[1], "a retry of the same alert keeps its id");
    assert.notEqual(ids[0], ids[2], "another alert gets another id");
  });

  it("posts Slack a readable message: a text line and blocks with the facts, the error's meaning and the hint", async () => {
    const channel = createChannel(
      "slack",
      { kind: "slack", url: receiver.url("/services/T0/B0/slacksecret") },
      context,
    );
    await channel.send(failedAlert());
    const got = receiver.requests.at(-1)!;
    const text = String(got.json.text);
    assert.match(text, /\[CRITICAL\] new certificate failed verification and was rolled back: payments-prod/);
    assert.match(text, /&lt;egress&gt; &amp; more/, "Slack control characters are escaped");
    const blocks = got.json.blocks as Array<{
      type: string;
      text?: { text: string };
      fields?: Array<{ text: string }>;
    }>;
    assert.equal(blocks[0]!.type, "header");
    const all = JSON.stringify(blocks);
    for (const fact of [
      "payments-prod",
      "cli_123",
      "rot_abc",
      "IP_NOT_ALLOWED",
      "403 Forbidden",
      "allowlist",
      "verify",
    ])
      assert.ok(all.includes(fact), `the blocks show ${fact}`);
    const fields = blocks.find((b) => b.fields)!.fields!;
    assert.ok(fields.length <= 10, "Slack allows at most 10 fields per section");
    assert.ok(blocks.some((b) => b.text?.text.startsWith("*What to check:*")));
  });

  it("sends PagerDuty a trigger with routing_key, summary, source, severity and safe details, and a resolve with the same dedup_key", async () => {
    const routingKey = "R0UTINGKEY0123456789abcdef";
    const channel = createChannel(
      "pd",
      { kind: "pagerduty", routingKey, url: receiver.url("/v2/enqueue") },
      context,
    );
    receiver.status = 202;
    const alert = failedAlert();
    await channel.send(alert);
    await channel.send({
      ...alert,
      kind: "resolved",
      resolves: alert.kind,
      action: "resolve",
      severity: "info",
    });
    const before = receiver.requests.length;
    await channel.send({ ...alert, kind: "rotation-succeeded", action: "notify", severity: "info" });
    assert.equal(receiver.requests.length, before, "a success notice is not an incident");
    receiver.status = 200;
    const [trigger, resolve] = receiver.requests.slice(-2);
    assert.equal(trigger!.json.routing_key, routingKey);
    assert.equal(trigger!.json.event_action, "trigger");
    assert.equal(trigger!.json.dedup_key, "certrotor/payments-prod/verify-failed-rolled-back");
    const payload = trigger!.json.payload as Record<string, unknown>;
    assert.match(String(payload.summary), /payments-prod.*403 Forbidden/);
    assert.equal(payload.source, "certrotor/payments-prod");
    assert.equal(payload.severity, "critical");
    const details = payload.custom_details as Record<string, string>;
    assert.equal(details.errorCode, "IP_NOT_ALLOWED");
    assert.equal(details.hint, BANK_HINTS.IP_NOT_ALLOWED);
    assert.equal(details.rotationId, "rot_abc");
    assert.deepEqual(resolve!.json, {
      routing_key: routingKey,
      event_action: "resolve",
      dedup_key: "certrotor/payments-prod/verify-failed-rolled-back",
    });
  });

  it("reports a 500 as a retryable ALERT_DELIVERY_FAILED naming channel and status, never the URL or key; a 404 is final", async () => {
    const secretPath = "/services/T0/B0/slacksecretpart";
    const slack = createChannel("ops-slack", { kind: "slack", url: receiver.url(secretPath) }, context);
    const pd = createChannel(
      "ops-pd",
      { kind: "pagerduty", routingKey: "PDKEYsecret123", url: receiver.url("/pd") },
      context,
    );
    receiver.status = 500;
    const server = await rejection(slack.send(failedAlert()));
    const pdError = await rejection(pd.send(failedAlert()));
    receiver.status = 404;
    const missing = await rejection(slack.send(failedAlert()));
    receiver.status = 200;
    assert.equal(server.retryable, true);
    assert.equal(server.details.status, 500);
    assert.equal(server.details.channel, "ops-slack");
    assert.match(server.message, /"ops-slack" \(slack\) answered HTTP 500/);
    assert.equal(missing.retryable, false);
    for (const error of [server, pdError, missing]) {
      const visible = `${error.toSafeString()} ${JSON.stringify(error)} ${JSON.stringify(error.details)} ${String(error.cause)}`;
      assert.ok(
        !visible.includes("slacksecretpart") &&
          !visible.includes("PDKEYsecret123") &&
          !visible.includes("127.0.0.1"),
      );
    }
  });

  it("reports an unreachable receiver and one that never answers within the timeout as retryable", async () => {
    const silentServer = createServer((socket: Socket) => socket.on("error", () => undefined));
    silentServer.listen(0, "127.0.0.1");
    await once(silentServer, "listening");
    const port = (silentServer.address() as { port: number }).port;
    try {
      const hanging = createChannel(
        "hang",
        { kind: "webhook", url: `http://127.0.0.1:${port}/`, secret: WEBHOOK_SECRET },
        {
          ...context,
          timeoutMs: 200,
        },
      );
      const timedOut = await rejection(hanging.send(failedAlert()));
      assert.equal(timedOut.retryable, true);
      assert.equal(timedOut.details.reason, "timeout");
    } finally {
      silentServer.close();
    }
    const closed = createChannel(
      "gone",
      { kind: "webhook", url: `http://127.0.0.1:${port}/`, secret: WEBHOOK_SECRET },
      context,
    );
    const refused = await rejection(closed.send(failedAlert()));
    assert.equal(refused.retryable, true);
    assert.equal(refused.details.reason, "network");
  });
});

describe("the email channel against an SMTP server", () => {
  const login = { user: "alerts@example.test", password: "smtp-pass-do-not-leak" };
  let smtp: SmtpReceiver;
  let caFile: string;
  before(async () => {
    smtp = await SmtpReceiver.start(login);
    caFile = join(tmpdir(), `certrotor-smtp-ca-${process.pid}-${smtp.port}.pem`);
    await writeFile(caFile, smtp.caPem);
  });
  after(async () => {
    await smtp.stop();
    await rm(caFile, { force: true });
  });

  const email = (extra: Record<string, unknown>) =>
    configSchema.parse({
      alerts: {
        channels: {
          mail: {
            kind: "email",
            host: "127.0.0.1",
            port: smtp.port,
            requireTLS: true,
            from: "certrotor@example.test",
            to: ["ops@example.test", "oncall@example.test"],
            ...extra,
          },
        },
      },
    }).alerts.channels.mail!;

  it("sends a plain-text alert over STARTTLS with authentication, trusting the configured CA", async () => {
    const channel = createChannel(
      "mail",
      email({ caFile, user: login.user, password: login.password }),
      context,
    );
    await channel.send(failedAlert());
    await smtp.untilCount(1);
    const mail = smtp.mails.at(-1)!;
    assert.equal(mail.secure, true, "the session was upgraded with STARTTLS");
    assert.equal(mail.user, login.user);
    assert.deepEqual(mail.to, ["ops@example.test", "oncall@example.test"]);
    assert.match(mail.raw, /^Subject: certrotor \[CRITICAL\] new certificate failed verification/m);
    assert.match(mail.raw, /^X-Certrotor-Dedup-Key: certrotor\/payments-prod\/verify-failed-rolled-back/m);
    assert.match(mail.raw, /IP_NOT_ALLOWED/);
    assert.ok(!mail.raw.includes(login.password));
  });

  it("refuses a server whose certificate it cannot verify, and a wrong password is final without echoing it", async () => {
    const before = smtp.mails.length;
    const untrusted = createChannel("mail", email({ user: login.user, password: login.password }), context);
    const tls = await rejection(untrusted.send(failedAlert()));
    assert.equal(tls.details.kind, "email");
    assert.equal(smtp.mails.length, before, "nothing was sent to a server that could not be verified");
    const wrong = createChannel(
      "mail",
      email({ caFile, user: login.user, password: "wrong-pass-secret" }),
      context,
    );
    const auth = await rejection(wrong.send(failedAlert()));
    assert.equal(auth.retryable, false);
    assert.equal(auth.details.code, "EAUTH");
    assert.ok(!`${auth.toSafeString()} ${String(auth.cause)}`.includes("wrong-pass-secret"));
  });
});

describe("the email channel against a relay without STARTTLS", () => {
  const login = { user: "alerts@example.test", password: "smtp-pass-in-clear" };
  let smtp: SmtpReceiver;
  before(async () => {
    smtp = await SmtpReceiver.start(login, { plainText: true });
  });
  after(() => smtp.stop());

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
            ...extra,
          },
        },
      },
    }).alerts.channels.mail!;

  it("requires TLS by default: sends neither AUTH nor the mail", async () => {
    const error = await rejection(createChannel("mail", email({}), context).send(failedAlert()));
    assert.equal(error.code, "ALERT_DELIVERY_FAILED");
    assert.equal(smtp.auths.length, 0, "the password never went out in clear");
    assert.equal(smtp.mails.length, 0);
  });

  it("refuses requireTLS: false in the config unless insecure: true says so, and then sends in clear", async () => {
    assert.throws(
      () => email({ requireTLS: false }),
      /false would send mail \(and the SMTP password\) without TLS/,
    );
    await createChannel("mail", email({ requireTLS: false, insecure: true }), context).send(failedAlert());
    await smtp.untilCount(1);
    assert.deepEqual(smtp.auths, [{ secure: false }]);
    assert.equal(smtp.mails[0]!.secure, false);
  });
});

describe("the channel registry and routing", () => {
  it("builds a channel per configured name, a lone log channel when none, and refuses an unknown kind", () => {
    const config = configSchema.parse({
      alerts: {
        channels: {
          a: { kind: "webhook", url: "https://hooks.example.test/a", secret: WEBHOOK_SECRET },
          b: { kind: "pagerduty", routingKey: "k" },
          c: { kind: "log" },
        },
      },
    });
    const channels = createChannels(config.alerts, context);
    assert.deepEqual(
      [...channels.values()].map((c) => [c.name, c.kind]),
      [
        ["a", "webhook"],
        ["b", "pagerduty"],
        ["c", "log"],
      ],
    );
    assert.deepEqual([...createChannels({ channels: {} }, context).keys()], ["log"]);
    assert.throws(
      () => createChannel("x", { kind: "carrier-pigeon" } as never, context),
      (error: unknown) =>
        isCertrotorError(error, "UNKNOWN_KIND") && /"x".*carrier-pigeon/.test(error.message),
    );
    assert.deepEqual(
      routeChannels(channels, ["c", "a"]).map((c) => c.name),
      ["c", "a"],
    );
    assert.deepEqual(
      routeChannels(channels, undefined).map((c) => c.name),
      ["a", "b", "c"],
    );
  });

  it("writes the log channel's alert as one JSON line with the safe facts", async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
    const logger = createLogger({ level: "info", destination: stream });
    const channel = createChannel("log", { kind: "log" }, { logger, timeoutMs: 1_000 });
    await channel.send(failedAlert());
    const line = JSON.parse(lines.at(-1)!) as { level: number; msg: string; channel: string; alert: Alert };
    assert.equal(line.level, 40);
    assert.equal(line.channel, "log");
    assert.equal(line.alert.errorCode, "IP_NOT_ALLOWED");
    assert.match(line.msg, /payments-prod/);
  });
});
