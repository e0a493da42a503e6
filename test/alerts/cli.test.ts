import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { verifyWebhookSignature } from "../../src/alerts/webhook.js";
import { HttpReceiver } from "./receivers.js";
import { BIN, CLI_ENV } from "../fixtures/cli.js";

const SECRET = "cli-test-webhook-secret-0123";

function certrotor(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...CLI_ENV } },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("certrotor alert test", () => {
  let receiver: HttpReceiver;
  let dir: string;
  let configPath: string;
  before(async () => {
    receiver = await HttpReceiver.start();
    dir = await mkdtemp(join(tmpdir(), "certrotor-alert-cli-"));
    configPath = join(dir, "certrotor.json");
    await writeFile(
      configPath,
      JSON.stringify({
        alerts: {
          channels: {
            ops: { kind: "webhook", url: receiver.url("/ops"), secret: SECRET },
            pd: { kind: "pagerduty", routingKey: "cli-routing-key", url: receiver.url("/pd") },
          },
        },
        log: { level: "silent" },
      }),
    );
  });
  after(async () => {
    await receiver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends a signed test alert through the named channel and says it was accepted", async () => {
    const result = await certrotor(["alert", "test", "--channel", "ops", "--config", configPath]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /sent a test alert to "ops" \(webhook\): accepted/);
    const got = receiver.requests.at(-1)!;
    assert.equal(got.path, "/ops");
    assert.equal(got.json.kind, "test");
    const headers = got.headers;
    assert.ok(
      verifyWebhookSignature(
        SECRET,
        String(headers["x-certrotor-timestamp"]),
        got.raw,
        String(headers["x-certrotor-signature"]),
        300_000,
      ),
    );
  });

  it("sends PagerDuty a test trigger, and with --resolve its resolve under the same dedup key", async () => {
    assert.equal((await certrotor(["alert", "test", "--channel", "pd", "--config", configPath])).code, 0);
    assert.equal(
      (await certrotor(["alert", "test", "--channel", "pd", "--resolve", "--config", configPath])).code,
      0,
    );
    const [trigger, resolve] = receiver.requests.filter((r) => r.path === "/pd").slice(-2);
    assert.equal(trigger!.json.event_action, "trigger");
    assert.equal(resolve!.json.event_action, "resolve");
    assert.equal(resolve!.json.dedup_key, trigger!.json.dedup_key);
  });

  it("exits 2 with one line naming the channel and status when the receiver refuses", async () => {
    receiver.status = 500;
    try {
      const result = await certrotor(["alert", "test", "--channel", "ops", "--config", configPath]);
      assert.equal(result.code, 2);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(
        lines[0]!,
        /^certrotor: ALERT_DELIVERY_FAILED: alert channel "ops" \(webhook\) answered HTTP 500$/,
      );
    } finally {
      receiver.status = 200;
    }
  });

  it("refuses an unknown channel with one line naming the configured ones", async () => {
    const result = await certrotor(["alert", "test", "--channel", "nope", "--config", configPath]);
    assert.equal(result.code, 64);
    assert.equal(
      result.stderr.trim(),
      'certrotor: BAD_ARGUMENT: no alert channel "nope" (configured: ops, pd)',
    );
  });
});
