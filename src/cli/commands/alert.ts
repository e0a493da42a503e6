/**
 * `certrotor alert test --channel NAME`: sends a test alert straight through one channel (no queue, no
 * Redis) and says whether the channel accepted it; exit 0 when it did, 2 when it did not.
 */
import type { Command } from "commander";
import { testAlert } from "../../alerts/build.js";
import { closeChannels, createChannels } from "../../alerts/index.js";
import { loadConfig } from "../../config/load.js";
import { CertrotorError } from "../../errors.js";
import { addConfigOption, makeLogger } from "../context.js";

interface TestOptions {
  config: string;
  channel: string;
  resolve?: boolean;
}

async function sendTest(program: Command, options: TestOptions): Promise<void> {
  const config = await loadConfig(options.config);
  const logger = makeLogger(program, config);
  const channels = createChannels(config.alerts, { logger, timeoutMs: config.alerts.timeout });
  try {
    const channel = channels.get(options.channel);
    if (!channel) {
      throw new CertrotorError(
        "BAD_ARGUMENT",
        `no alert channel "${options.channel}" (configured: ${[...channels.keys()].join(", ")})`,
      );
    }
    const action = options.resolve ? "resolve" : "trigger";
    await channel.send(testAlert(channel.name, new Date(), action));
    process.stdout.write(
      `sent a test ${action === "resolve" ? "resolve" : "alert"} to "${channel.name}" (${channel.kind}): accepted\n`,
    );
  } finally {
    await closeChannels(channels);
  }
}

export function register(program: Command): void {
  const alert = program.command("alert").description("Alert channels");
  addConfigOption(
    alert
      .command("test")
      .description("Send a test alert through one configured channel now (no queue); exit 2 if it fails")
      .requiredOption("--channel <name>", "the channel (a key of alerts.channels)")
      .option("--resolve", "send the resolve of the test alert (closes PagerDuty's test incident)"),
  ).action(async (options: TestOptions) => {
    await sendTest(program, options);
  });
}
