/**
 * The channel registry (an explicit kind → factory map; an unknown kind is UNKNOWN_KIND) and routing:
 * a credential's `alerts` list names its channels, otherwise every channel gets its alerts.
 */
import type { AlertChannelConfig, AlertsConfig } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { createEmailChannel } from "./email.js";
import { createLogChannel } from "./log.js";
import { createPagerDutyChannel } from "./pagerduty.js";
import { createSlackChannel } from "./slack.js";
import { CHANNEL_KINDS, type Channel, type ChannelKind } from "./types.js";
import { createWebhookChannel } from "./webhook.js";

export interface ChannelContext {
  logger: Logger;
  /** Bound of one delivery (alerts.timeout). */
  timeoutMs: number;
  /** Clock of the webhook signature timestamp. */
  now?: () => Date;
}

type Factory<K extends ChannelKind> = (
  name: string,
  config: Extract<AlertChannelConfig, { kind: K }>,
  context: ChannelContext,
) => Channel;

const FACTORIES = {
  log: (name, _config, context) => createLogChannel(name, context.logger),
  webhook: createWebhookChannel,
  slack: createSlackChannel,
  pagerduty: createPagerDutyChannel,
  email: createEmailChannel,
} satisfies { [K in ChannelKind]: Factory<K> };

/** The channel used when none is configured. */
export const DEFAULT_CHANNEL = "log";

export function createChannel(name: string, config: AlertChannelConfig, context: ChannelContext): Channel {
  const kind = (config as { kind: string }).kind;
  if (!(CHANNEL_KINDS as readonly string[]).includes(kind)) {
    throw new CertrotorError(
      "UNKNOWN_KIND",
      `alert channel "${name}" has kind "${kind}"; known kinds: ${CHANNEL_KINDS.join(", ")}`,
      { details: { channel: name, kind } },
    );
  }
  const factory = FACTORIES[kind as ChannelKind] as Factory<ChannelKind>;
  return factory(name, config, context);
}

/** Every configured channel by name; a lone log channel when the config names none. */
export function createChannels(
  alerts: Pick<AlertsConfig, "channels">,
  context: ChannelContext,
): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  for (const [name, config] of Object.entries(alerts.channels))
    channels.set(name, createChannel(name, config, context));
  if (channels.size === 0)
    channels.set(DEFAULT_CHANNEL, createChannel(DEFAULT_CHANNEL, { kind: "log" }, context));
  return channels;
}

/** The channels of a credential: those its `alerts` list names, else all of them. */
export function routeChannels(
  channels: ReadonlyMap<string, Channel>,
  credentialAlerts: readonly string[] | undefined,
): Channel[] {
  if (!credentialAlerts || credentialAlerts.length === 0) return [...channels.values()];
  return credentialAlerts.flatMap((name) => {
    const channel = channels.get(name);
    return channel ? [channel] : [];
  });
}

export async function closeChannels(channels: ReadonlyMap<string, Channel>): Promise<void> {
  await Promise.all([...channels.values()].map((c) => c.close?.().catch(() => undefined)));
}
