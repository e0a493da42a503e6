/**
 * The checks of a parsed config that span fields: references between sections, moved keys, state vs
 * redis, cron patterns, and durations that must agree (a grace period shorter than the certificates'
 * lifetime, a backoff ceiling above its start). Each returns problem lines naming the exact path.
 */
import { formatDuration } from "./duration.js";
import { isCertrotorError } from "../errors.js";
import { validateCron } from "../rotation/window.js";
import type { Config, RenewalPolicyConfig } from "./schema.js";

/** Names that credentials, issuers and discovery rules point at must exist. */
export function crossReferenceProblems(config: Config): string[] {
  const problems: string[] = [];
  const need = (kind: "stores" | "banks" | "issuers", value: string, where: string): void => {
    if (!(value in config[kind])) {
      const known = Object.keys(config[kind]);
      problems.push(
        `${where}: no ${kind.slice(0, -1)} named "${value}" (configured: ${known.length ? known.join(", ") : "none"})`,
      );
    }
  };
  const seen = new Set<string>();
  config.credentials.forEach((credential, i) => {
    if (seen.has(credential.id))
      problems.push(`credentials[${i}].id: duplicate credential id "${credential.id}"`);
    seen.add(credential.id);
    need("stores", credential.store, `credentials[${i}].store`);
    need("banks", credential.bank, `credentials[${i}].bank`);
    need("issuers", credential.issuer, `credentials[${i}].issuer`);
  });
  config.discovery.forEach((rule, i) => {
    need("stores", rule.store, `discovery[${i}].store`);
    need("banks", rule.bank, `discovery[${i}].bank`);
    need("issuers", rule.issuer, `discovery[${i}].issuer`);
  });
  for (const [name, issuer] of Object.entries(config.issuers)) {
    if (issuer.kind === "local-ca") need("stores", issuer.store, `issuers.${name}.store`);
    if (issuer.kind === "bank") need("banks", issuer.bank, `issuers.${name}.bank`);
  }
  config.credentials.forEach((credential, i) => {
    for (const [j, channel] of (credential.alerts ?? []).entries()) {
      if (!(channel in config.alerts.channels)) {
        problems.push(`credentials[${i}].alerts[${j}]: no alert channel named "${channel}"`);
      }
    }
  });
  return problems;
}

/** Keys that moved: a config still using one is refused with a line naming the new key. */
const MOVED: ReadonlyArray<{ from: [string, string]; to: string }> = [
  { from: ["worker", "redisUrl"], to: "redis.url" },
  { from: ["worker", "queuePrefix"], to: "redis.prefix" },
];

export function movedKeyProblems(raw: unknown): string[] {
  const problems: string[] = [];
  for (const { from, to } of MOVED) {
    const section = (raw as Record<string, unknown> | null)?.[from[0]];
    if (section !== null && typeof section === "object" && from[1] in section) {
      problems.push(
        `${from.join(".")}: moved to ${to} (one redis: section serves the worker and every command; write redis: { ${to.split(".")[1]}: ... })`,
      );
    }
  }
  return problems;
}

/** `state` must agree with `redis`: every entry point uses Redis whenever it is configured. */
export function stateProblems(config: Config): string[] {
  if (config.state === "file" && config.redis)
    return [
      "state: file cannot be combined with a redis: section (the workers keep their journal, locks and alert episodes in Redis, so every command must too); remove state, or remove redis for a single-host setup",
    ];
  if (config.state === "redis" && !config.redis) return ["state: redis needs a redis: section with a url"];
  return [];
}

/** Every cron pattern and time zone is checked at load time: a bad one never silently schedules nothing. */
export function cronProblems(config: Config): string[] {
  const problems: string[] = [];
  const check = (pattern: string | undefined, timezone: string, where: string): void => {
    if (pattern === undefined) return;
    try {
      validateCron(pattern, where, timezone);
    } catch (error) {
      problems.push(isCertrotorError(error) ? error.message : `${where}: invalid cron pattern "${pattern}"`);
    }
  };
  check(config.schedules.scan, config.schedules.timezone, "schedules.scan");
  check(config.schedules.retire, config.schedules.timezone, "schedules.retire");
  check(config.renewal.window?.cron, config.renewal.window?.timezone ?? "UTC", "renewal.window.cron");
  config.credentials.forEach((c, i) => {
    check(
      c.renewal?.window?.cron,
      c.renewal?.window?.timezone ?? "UTC",
      `credentials[${i}].renewal.window.cron`,
    );
  });
  config.discovery.forEach((d, i) => {
    check(
      d.renewal?.window?.cron,
      d.renewal?.window?.timezone ?? "UTC",
      `discovery[${i}].renewal.window.cron`,
    );
  });
  return problems;
}

/** The lifetime of the certificates an issuer signs, when the config says it. */
function issuerLifetime(config: Config, issuer: string): { ms: number; field: string } | undefined {
  const settings = config.issuers[issuer];
  if (settings?.kind === "local-ca") return { ms: settings.validity, field: `issuers.${issuer}.validity` };
  if (settings?.kind === "vault-pki" && settings.ttl !== undefined)
    return { ms: settings.ttl, field: `issuers.${issuer}.ttl` };
  return undefined;
}

/**
 * The effective grace period (credential's, else the top level's) must be shorter than the lifetime of
 * the certificates the credential's issuer signs: otherwise the old certificate is still "in grace" after
 * the new one has expired. The effective backoff ceiling must not be below the first backoff.
 */
export function durationProblems(config: Config): string[] {
  const problems: string[] = [];
  const check = (renewal: Partial<RenewalPolicyConfig> | undefined, issuer: string, where: string): void => {
    const grace = renewal?.gracePeriod ?? config.renewal.gracePeriod;
    const graceField =
      renewal?.gracePeriod !== undefined ? `${where}.renewal.gracePeriod` : "renewal.gracePeriod";
    const lifetime = issuerLifetime(config, issuer);
    if (lifetime && grace >= lifetime.ms) {
      problems.push(
        `${graceField}: ${formatDuration(grace)} is not shorter than the lifetime of the certificates of ${where} (${lifetime.field}: ${formatDuration(lifetime.ms)}); the old certificate would expire inside its grace period`,
      );
    }
    const backoff = renewal?.backoff ?? config.renewal.backoff;
    const backoffMax = renewal?.backoffMax ?? config.renewal.backoffMax;
    if (backoffMax < backoff && (renewal?.backoff !== undefined || renewal?.backoffMax !== undefined)) {
      problems.push(
        `${where}.renewal.backoffMax: ${formatDuration(backoffMax)} is below backoff ${formatDuration(backoff)}`,
      );
    }
  };
  if (config.renewal.backoffMax < config.renewal.backoff) {
    problems.push(
      `renewal.backoffMax: ${formatDuration(config.renewal.backoffMax)} is below renewal.backoff ${formatDuration(config.renewal.backoff)}`,
    );
  }
  config.credentials.forEach((c, i) => {
    check(c.renewal, c.issuer, `credentials[${i}]`);
  });
  config.discovery.forEach((d, i) => {
    check(d.renewal, d.issuer, `discovery[${i}]`);
  });
  return problems;
}
