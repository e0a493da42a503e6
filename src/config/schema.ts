/**
 * The one schema of certrotor's config file. Defaults live here; the parsed result is frozen by load.ts.
 * Every field is documented in docs/configuration.md, generated from this schema by `npm run docs:gen`
 * (a new field needs its meaning in scripts/docs/config-fields.ts).
 */
import { z } from "zod";
import { parseDuration } from "./duration.js";
import { secretPathProblem } from "../util/secret-path.js";

import { KEY_TYPES, LOG_LEVELS } from "./constants.js";

export { KEY_TYPES, type KeyType, LOG_LEVELS } from "./constants.js";

/** A duration string ("90s", "15m", "6h", "30d", "2w") or milliseconds, parsed to milliseconds. */
export const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration like "90s", "15m", "6h", "30d", got "${value}"`,
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * A duration that must be greater than zero: leases, locks, timeouts and backoffs, where 0 would mean
 * "expired at once", "give up at once" or "retry in a busy loop".
 */
export const positiveDuration = duration.refine((ms) => ms > 0, { message: "must be greater than 0" });

/** Host names that never leave the machine: plain http:// to them exposes nothing on a network. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * An http(s) URL. Plain http:// only to a loopback host: anything else needs the section's explicit
 * `insecureHttp: true` (checked by `refuseInsecureHttp` on the enclosing object, which knows that flag).
 */
const httpUrl = z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" });

/** An https:// URL (the bank: mTLS has no plain-text variant). */
const httpsUrl = z.url({ protocol: /^https$/, error: "expected an https:// URL" });

/** True when `url` is plain http:// to a host that is not loopback. */
export function isInsecureHttp(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" && !isLoopbackHost(parsed.hostname);
  } catch {
    return false;
  }
}

/** Adds an issue on `field` when its URL is plain http:// to a non-loopback host and insecureHttp is not set. */
function refuseInsecureHttp<T extends { insecureHttp?: boolean }>(field: keyof T & string) {
  return (value: T, ctx: z.RefinementCtx): void => {
    const url = value[field];
    if (value.insecureHttp !== true && typeof url === "string" && isInsecureHttp(url)) {
      ctx.addIssue({
        code: "custom",
        path: [field],
        message:
          "plain http:// to a host that is not loopback sends secrets in clear text: use https://, or set insecureHttp: true on this section",
      });
    }
  };
}

const insecureHttp = z
  .boolean()
  .optional()
  .describe("allow plain http:// to a host that is not loopback (never in production)");

/** A zod check that a path is one a store may be handed (see secret-path.ts). */
function secretPathIssue(path: string, ctx: z.RefinementCtx): void {
  const problem = secretPathProblem(path);
  if (problem) ctx.addIssue({ code: "custom", message: `path ${problem}` });
}

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "expected a name of letters, digits, '.', '_', '-'");

const tlsVersion = z.enum(["TLSv1.2", "TLSv1.3"]);

// ---------------------------------------------------------------- stores

const fileStore = z.strictObject({
  kind: z.literal("file"),
  /** Directory holding one encrypted JSON document per credential. */
  dir: z.string().default(".certrotor/store"),
  /** Environment variable holding the 32-byte AES key (base64 or 64 hex chars). */
  keyEnv: z.string().optional(),
  /** Path of a key file (mode 0600) holding the key; created on first use when absent. Default `<dir>/.key`. */
  keyFile: z.string().optional(),
  /** How many old versions to keep per credential. */
  maxVersions: z.number().int().min(2).max(100).default(10),
  /** How long a write waits for another process's per-credential lock before failing (retryable). */
  lockTimeout: positiveDuration.default(10_000),
  /** A lock held longer than this counts as abandoned and is taken over (dead holders are detected at once). */
  lockLease: positiveDuration.default(30_000),
});

const vaultAuth = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("token"), token: z.string().min(1) }),
  z.strictObject({
    method: z.literal("approle"),
    roleId: z.string().min(1),
    secretId: z.string().min(1),
    mount: z.string().default("approle"),
  }),
]);

const vaultConnection = {
  /** https:// (http:// only to a loopback host, or with insecureHttp: true). */
  address: httpUrl,
  insecureHttp,
  namespace: z.string().optional(),
  auth: vaultAuth,
  /** PEM bundle to trust for Vault's TLS certificate (verification is never switched off). */
  caFile: z.string().optional(),
  requestTimeout: positiveDuration.default(10_000),
};

const vaultStore = z
  .strictObject({
    kind: z.literal("vault"),
    ...vaultConnection,
    /** KV v2 mount. */
    mount: z.string().default("secret"),
    /** Without pendingPrefix: pending material lives at the sibling path `<path><pendingSuffix>`. */
    pendingSuffix: z
      .string()
      .min(1)
      .refine((suffix) => secretPathProblem(`x${suffix}`) === undefined && !suffix.includes("/"), {
        message: "expected a suffix without '/' or control characters",
      })
      .default(".pending"),
    /**
     * Pending material lives at `<pendingPrefix><path>` instead, a prefix of its own, so a Vault policy can grant
     * `delete` there and not on the credentials (infra/vault/certrotor-policy.hcl is written for "certrotor-pending/").
     */
    pendingPrefix: z
      .string()
      .min(1)
      .regex(/^[^/]/, "expected a KV path prefix without a leading '/', e.g. \"certrotor-pending/\"")
      .optional(),
  })
  .superRefine(refuseInsecureHttp("address"));

const awsStore = z
  .strictObject({
    kind: z.literal("aws"),
    region: z.string().min(1),
    /** Custom endpoint (LocalStack, the emulator); absent = the real service. https:// (http:// only to loopback, or with insecureHttp). */
    endpoint: httpUrl.optional(),
    insecureHttp,
    /** Explicit keys; absent = the SDK's default provider chain (env, profile, IMDS, IRSA). */
    credentials: z
      .strictObject({
        accessKeyId: z.string().min(1),
        secretAccessKey: z.string().min(1),
        sessionToken: z.string().optional(),
      })
      .optional(),
    /** Attempts per call, first included; the SDK retries throttling, 5xx and network errors itself. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** TCP connect timeout per attempt, so an unreachable endpoint fails fast. */
    connectTimeout: positiveDuration.default(3_000),
    /** Whole-request timeout per attempt. */
    requestTimeout: positiveDuration.default(10_000),
    /**
     * How long a read that contradicts the store's own last label change, or that would make it refuse
     * (CAS_CONFLICT, PENDING_CONFLICT), is repeated before it is believed: Secrets Manager is eventually consistent.
     */
    consistencyWindow: duration.default(2_000),
  })
  .superRefine(refuseInsecureHttp("endpoint"));

export const storeSchema = z.discriminatedUnion("kind", [fileStore, vaultStore, awsStore]);

// ---------------------------------------------------------------- banks

/** What every bank kind shares: connection, TLS, timeouts, and the bank's profile. */
const bankCommon = {
  /** Base URL of the bank API, e.g. https://api.bank.example. */
  url: httpsUrl,
  /** CA bundle (PEM file) that the bank's server certificate must chain to: CA pinning. */
  caFile: z.string().optional(),
  tls: z
    .strictObject({ minVersion: tlsVersion.default("TLSv1.2"), maxVersion: tlsVersion.default("TLSv1.3") })
    .default({ minVersion: "TLSv1.2", maxVersion: "TLSv1.3" }),
  requestTimeout: positiveDuration.default(15_000),
  retries: z.number().int().min(0).max(10).default(3),
  /** Active certificates the bank allows per credential: 2 (rotate with overlap) or 1 (cut-over). */
  maxSlots: z.literal([1, 2]).default(2),
  /** The bank's portal, shown in human tasks (manual registration, portal signing). */
  portalUrl: z.url().optional(),
};

/**
 * How a new certificate gets bound to the credential: `api` (through the bank's slot API), `manual` (a
 * person binds it in the bank's portal), `none` (the bank trusts the issuing CA, seed 002: nothing to bind).
 */
export const REGISTRATIONS = ["api", "manual", "none"] as const;
export type Registration = (typeof REGISTRATIONS)[number];

const bankingApiBank = z.strictObject({
  kind: z.literal("banking-api"),
  ...bankCommon,
  /** Base URL of the admin (certificate slot) API; defaults to `url`. */
  adminUrl: httpsUrl.optional(),
  /** Bearer API key of the admin API. Use ${ENV_VAR}. */
  adminApiKey: z.string().min(1),
  registration: z.enum(REGISTRATIONS).default("api"),
  /** Optional protected call after the token: GET .../accounts/{accountId}/balance. */
  probe: z.strictObject({ accountId: z.string().min(1) }).optional(),
});

const oauth2MtlsBank = z.strictObject({
  kind: z.literal("oauth2-mtls"),
  ...bankCommon,
  /** Path of the RFC 6749 token endpoint under `url`, e.g. /oauth/token. */
  tokenPath: z.string().regex(/^\/[^\s?#]*$/, 'expected a path starting with "/", e.g. "/oauth/token"'),
  /** How the client authenticates: HTTP Basic (RFC 6749 § 2.3.1) or client_id/client_secret in the form body. */
  clientAuth: z.enum(["basic", "body"]).default("basic"),
  /** `scope` parameter of the token request (space-separated), when the bank wants one. */
  scope: z.string().min(1).optional(),
  // No slot API: `api` is refused with a message saying what to use instead (a custom issue, so the
  // loader prints this message rather than the list of values).
  registration: z
    .enum(REGISTRATIONS)
    .default("manual")
    .refine((value) => value !== "api", {
      message:
        'kind oauth2-mtls has no slot API, so registration must be "manual" (a person binds the certificate in the bank\'s portal) or "none" (the bank trusts the issuing CA); "api" needs kind banking-api',
    })
    .transform((value) => value as Exclude<Registration, "api">),
  /** Optional protected call after the token: GET `path` (`{accountId}` replaced) with the Bearer token. */
  probe: z
    .strictObject({
      path: z.string().regex(/^\/[^\s?#]*$/, 'expected a path starting with "/"'),
      accountId: z.string().min(1),
    })
    .optional(),
});

export const bankSchema = z.discriminatedUnion("kind", [bankingApiBank, oauth2MtlsBank]);

// ---------------------------------------------------------------- issuers

const localCaIssuer = z.strictObject({
  kind: z.literal("local-ca"),
  /** Store holding the CA key and cert. */
  store: name,
  /** Path of the CA material in that store. */
  path: z.string().min(1).superRefine(secretPathIssue),
  /** Lifetime of the certificates it signs. */
  validity: positiveDuration.default(365 * 86_400_000),
});

const vaultPkiIssuer = z
  .strictObject({
    kind: z.literal("vault-pki"),
    ...vaultConnection,
    mount: z.string().default("pki"),
    role: z.string().min(1),
    /** Lifetime asked of Vault; absent = the role's ttl. */
    ttl: positiveDuration.optional(),
  })
  .superRefine(refuseInsecureHttp("address"));

const bankIssuer = z.strictObject({
  kind: z.literal("bank"),
  /** The bank (config name) whose CA signs the CSR. */
  bank: name,
  /**
   * PEM of the bank's issuing CA, when the bank publishes it: `certrotor import` checks an existing
   * certificate against it. Without it the bank's CA is learnt from its first signature, and import
   * relies on the token call alone.
   */
  caFile: z.string().min(1).optional(),
});

/** The bank signs in its portal (seed 000): a person uploads the CSR; `task complete --cert` hands it back. */
const bankPortalIssuer = z.strictObject({
  kind: z.literal("bank-portal"),
  /** The bank (config name) whose portal signs. */
  bank: name,
  /** PEM of the bank's issuing CA: the certificate handed back must chain to it. */
  caFile: z.string().min(1),
});

export const issuerSchema = z.discriminatedUnion("kind", [
  localCaIssuer,
  vaultPkiIssuer,
  bankIssuer,
  bankPortalIssuer,
]);

// ---------------------------------------------------------------- renewal policy

export const renewalSchema = z.strictObject({
  /** Renew this long before notAfter... */
  renewBefore: duration.optional(),
  /** ...or once this fraction of the lifetime has passed, whichever comes first. */
  renewAtFraction: z
    .number()
    .gt(0)
    .lt(1)
    .default(2 / 3),
  /** Random delay added per credential so a fleet does not rotate in one minute. */
  jitter: duration.default(3_600_000),
  /** Scheduled rotations only start inside this window (a preference: never lets a cert expire). */
  window: z
    .strictObject({
      /** cron pattern whose matching minutes form the window, e.g. "* 9-16 * * 1-5". */
      cron: z.string().min(1),
      timezone: z.string().default("UTC"),
    })
    .optional(),
  /** Retire the old cert this long after promote, so consumers reload. */
  gracePeriod: duration.default(4 * 3_600_000),
  /** Where the bank reports last use: also wait until the old cert was idle this long. */
  idleBeforeRetire: duration.default(15 * 60_000),
  /** Past this (after the grace period), keep the old cert bound and raise CONSUMERS_ON_OLD_CERT. */
  maxRetireWait: duration.default(24 * 3_600_000),
  /** A cert certrotor issued that is neither current nor pending may be unbound to free a slot. */
  unbindStaleOwnCerts: z.boolean().default(false),
  attempts: z.number().int().min(1).max(50).default(5),
  backoff: positiveDuration.default(30_000),
  backoffMax: positiveDuration.default(30 * 60_000),
});
export type RenewalPolicyConfig = z.infer<typeof renewalSchema>;

// ---------------------------------------------------------------- credentials

const fieldMapSchema = z
  .strictObject({
    clientId: z.string(),
    clientSecret: z.string(),
    certPem: z.string(),
    chainPem: z.string(),
    keyPem: z.string(),
    pfxBase64: z.string(),
    pfxPassphrase: z.string(),
    fingerprint: z.string(),
    notAfter: z.string(),
    rotationId: z.string(),
  })
  .partial();

export const credentialSchema = z.strictObject({
  id: name,
  /** The bank's client_id. */
  clientId: z.string().min(1),
  bank: name,
  store: name,
  /** Location in the store (Vault KV path, AWS secret name, file-store key); defaults to the id. */
  path: z.string().min(1).superRefine(secretPathIssue).optional(),
  issuer: name,
  keyType: z.enum(KEY_TYPES).default("rsa2048"),
  /** Also write a PKCS#12 (AES-256/PBKDF2) and its passphrase for consumers that want PFX. */
  pfx: z.boolean().default(true),
  /** Consumer-visible names of the stored fields. */
  fields: fieldMapSchema.optional(),
  renewal: renewalSchema.partial().optional(),
  /** Alert channels (names) for this credential; default: every channel. */
  alerts: z.array(name).optional(),
});
export type CredentialConfig = z.infer<typeof credentialSchema>;

const discoverySchema = z.strictObject({
  store: name,
  prefix: z.string().optional(),
  tag: z.strictObject({ key: z.string().min(1), value: z.string().optional() }).optional(),
  /** Settings for every discovered credential (its id is derived from the path). */
  bank: name,
  issuer: name,
  keyType: z.enum(KEY_TYPES).default("rsa2048"),
  pfx: z.boolean().default(true),
  fields: fieldMapSchema.optional(),
  renewal: renewalSchema.partial().optional(),
});

// ---------------------------------------------------------------- alerts

const alertChannel = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("log") }),
  z
    .strictObject({
      kind: z.literal("webhook"),
      url: httpUrl,
      /** HMAC-SHA256 key of the X-Certrotor-Signature header (docs/alerts.md). Use ${ENV_VAR}. */
      secret: z.string().min(16),
      /** PEM bundle the receiver's certificate must chain to; absent = Node's default roots. */
      caFile: z.string().optional(),
      insecureHttp,
    })
    .superRefine(refuseInsecureHttp("url")),
  /** Slack incoming webhook; the URL itself is the secret. Use ${ENV_VAR}. */
  z
    .strictObject({ kind: z.literal("slack"), url: httpUrl, caFile: z.string().optional(), insecureHttp })
    .superRefine(refuseInsecureHttp("url")),
  z
    .strictObject({
      kind: z.literal("pagerduty"),
      /** Events API v2 integration (routing) key. Use ${ENV_VAR}. */
      routingKey: z.string().min(1),
      url: httpUrl.default("https://events.pagerduty.com/v2/enqueue"),
      caFile: z.string().optional(),
      insecureHttp,
    })
    .superRefine(refuseInsecureHttp("url")),
  z
    .strictObject({
      kind: z.literal("email"),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(587),
      /** TLS from the first byte (port 465); otherwise STARTTLS. */
      secure: z.boolean().default(false),
      /**
       * Send nothing (above all no AUTH) unless the connection was upgraded with STARTTLS. On by default;
       * `requireTLS: false` is refused unless `insecure: true`.
       */
      requireTLS: z.boolean().default(true),
      /** Allow a plain-text SMTP session (no STARTTLS, AUTH in clear): only with this explicit flag. */
      insecure: z.boolean().default(false),
      /** PEM bundle to trust for the SMTP server's certificate (verification is never switched off). */
      caFile: z.string().optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      from: z.string().min(3),
      to: z.array(z.string().min(3)).min(1),
    })
    .superRefine((value, ctx) => {
      if (!value.secure && !value.requireTLS && !value.insecure) {
        ctx.addIssue({
          code: "custom",
          path: ["requireTLS"],
          message:
            "false would send mail (and the SMTP password) without TLS: keep it true, or set insecure: true to allow a plain-text session explicitly",
        });
      }
    }),
]);

const alertsSchema = z.strictObject({
  channels: z.record(name, alertChannel).default({}),
  /** Days before notAfter from which a not-yet-rotated cert raises an alert. */
  criticalWindow: duration.default(7 * 86_400_000),
  /** A rotation stuck in one step longer than this raises an alert (and shows as drift in scan). */
  stuckAfter: positiveDuration.default(30 * 60_000),
  /** A renewal time passed this long ago without a successful rotation raises rotation-overdue. */
  overdueAfter: duration.default(6 * 3_600_000),
  notifyOnSuccess: z.boolean().default(false),
  /** Bound of one delivery (connect + answer) to one channel. */
  timeout: positiveDuration.default(10_000),
  /** Delivery attempts of one alert (first included); channels that accepted it are not sent it again. */
  deliveryAttempts: z.number().int().min(1).max(50).default(8),
  /** First retry delay; doubles on each later attempt. */
  deliveryBackoff: positiveDuration.default(5_000),
});

// ---------------------------------------------------------------- worker

const workerSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(256).default(4),
  /** Port of /healthz, /readyz and /metrics (0 = a free port). */
  port: z.number().int().min(0).max(65535).default(9464),
  /** Address the health/metrics server binds to (0.0.0.0: reachable by the kubelet and Prometheus). */
  host: z.string().min(1).default("0.0.0.0"),
  shutdownTimeout: positiveDuration.default(30_000),
  /** How long a starting worker waits for Redis to answer before it gives up (REDIS_UNAVAILABLE). */
  startupTimeout: positiveDuration.default(60_000),
  /** BullMQ job lock: a job whose worker stopped renewing it for this long is stalled and taken over. */
  jobLockDuration: positiveDuration.default(30_000),
  /**
   * Lease of the per-credential rotation lock (renewed every third of it while a rotation runs). A killed
   * worker's rotations resume within max(jobLockDuration, rotationLease) + 5 s (jobs/worker.ts resumeBoundMs).
   */
  rotationLease: positiveDuration.default(30_000),
});

// ---------------------------------------------------------------- console

/** The prefix and shape of a password hash made by `certrotor console hash-password` (src/console/password.ts). */
export const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const consoleUser = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._@-]{1,64}$/, "expected 1-64 letters, digits or . _ @ -")
    .describe("the operator's name: the audit actor of what they do"),
  /** viewer: reads everything; operator: also rotates and retries. */
  role: z.enum(["viewer", "operator"]),
  /** `scrypt$N$r$p$salt$hash`, from `certrotor console hash-password` (never a plain password). */
  passwordHash: z.string().regex(SCRYPT_HASH, "expected the output of `certrotor console hash-password`"),
});

const consoleSchema = z
  .strictObject({
    /** The worker also serves the console (on console.port), besides `certrotor console`. */
    enabled: z.boolean().default(false),
    port: z.number().int().min(0).max(65535).default(9465),
    /** Loopback unless told otherwise: a console on a network wants TLS (console.tls). */
    host: z.string().min(1).default("127.0.0.1"),
    /** A session ends this long after login. */
    sessionTtl: positiveDuration.default(8 * 3_600_000),
    /** The fleet view is rebuilt from the stores and banks when older than this (and after an action). */
    refresh: positiveDuration.default(60_000),
    /** Login attempts allowed per client address and minute. */
    loginAttemptsPerMinute: z.number().int().min(1).max(1000).default(10),
    /** Serve HTTPS with this certificate and key (PEM files); cookies are then Secure. */
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    /** Mark cookies Secure without console.tls: behind a proxy that terminates TLS. */
    secureCookies: z.boolean().default(false),
    /** Serve plain HTTP on a host that is not loopback (never in production). */
    insecureHttp,
    users: z.array(consoleUser).default([]),
  })
  .superRefine((value, ctx) => {
    if (!value.tls && value.insecureHttp !== true && !isLoopbackHost(value.host)) {
      ctx.addIssue({
        code: "custom",
        path: ["host"],
        message:
          "a console on a host that is not loopback over plain HTTP sends passwords and session cookies in clear text: set console.tls, or insecureHttp: true",
      });
    }
    const seen = new Set<string>();
    for (const [i, user] of value.users.entries()) {
      if (seen.has(user.name))
        ctx.addIssue({
          code: "custom",
          path: ["users", i, "name"],
          message: `duplicate user "${user.name}"`,
        });
      seen.add(user.name);
    }
  });
export type ConsoleConfig = z.infer<typeof consoleSchema>;
export type ConsoleUser = z.infer<typeof consoleUser>;

// ---------------------------------------------------------------- redis: the one shared state

/** A Redis URL, checked here so a wrong scheme names the field instead of failing at connect time. */
const redisUrl = z.string().refine((value) => /^rediss?:\/\/[^\s]*$/.test(value), {
  message: 'expected a redis:// or rediss:// URL (e.g. "redis://127.0.0.1:6379")',
});

/** One Redis (or Sentinel) node: "host:port", "[v6 address]:port". */
const redisNode = z.string().refine((value) => /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]+):\d{1,5}$/.test(value), {
  message: 'expected "host:port" (e.g. "redis-0.internal:6379")',
});

/** Defaults of the optional redis.* timeouts (applied in src/redis/, documented in docs/configuration.md). */
export const REDIS_DEFAULTS = {
  /** A command of a worker waits this long for a failover (a replica promoted) before it fails. */
  failoverTimeout: 30_000,
} as const;

/**
 * The hash tag Redis Cluster hashes a key by: the text between the first "{" and the first "}" after it,
 * when not empty (redis.io/docs/reference/cluster-spec, "Hash tags"); undefined when the key has none.
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

export const redisSchema = z
  .strictObject({
    /** Standalone Redis: redis://[user:password@]host:port[/db], or rediss:// for TLS. ${REDIS_URL} by convention. */
    url: redisUrl.optional(),
    /** Redis Cluster: any reachable nodes ("host:port"); the others are discovered (CLUSTER SLOTS). */
    cluster: z.array(redisNode).min(1).optional(),
    /** Redis Sentinel: the sentinels to ask and the name of the monitored master. */
    sentinel: z
      .strictObject({
        sentinels: z.array(redisNode).min(1),
        /** The master group name (`sentinel monitor <name> ...`). */
        name: z.string().min(1),
        /** The sentinels' own ACL user and password, when they require one (`requirepass` on the sentinels). */
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
      })
      .optional(),
    /** ACL user (Redis 6+) of every data connection. Use ${ENV_VAR}. */
    username: z.string().min(1).optional(),
    /** Password of that user (or of `requirepass`). Use ${ENV_VAR}. */
    password: z.string().min(1).optional(),
    /**
     * TLS to Redis (and to the sentinels): the server certificate must chain to `caFile` (else to the system
     * roots) and name `serverName` (else the host dialled). Verification is never switched off.
     */
    tls: z
      .strictObject({
        caFile: z.string().min(1).optional(),
        serverName: z.string().min(1).optional(),
      })
      .optional(),
    /**
     * Prefix of every key certrotor writes (queues, journal, locks, alert episodes). The {braces} are a Redis
     * Cluster hash tag keeping every key in one slot, which BullMQ's multi-key scripts need.
     */
    prefix: z.string().min(1).default("{certrotor}"),
    /** TCP (and TLS) connect timeout of each connection attempt. */
    connectTimeout: duration.default(5_000),
    /** A command that gets no answer this long fails (not the workers' blocking reads); absent: no bound. */
    commandTimeout: duration.optional(),
    /** How long a worker's commands wait out a failover (cluster or Sentinel) before failing (default 30s). */
    failoverTimeout: duration.optional(),
  })
  .superRefine((redis, ctx) => {
    const forms = (["url", "cluster", "sentinel"] as const).filter((form) => redis[form] !== undefined);
    if (forms.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          forms.length === 0
            ? "give one of url (standalone), cluster (nodes) or sentinel ({ sentinels, name })"
            : `give exactly one of url, cluster, sentinel (found ${forms.join(" and ")})`,
      });
    }
    if (redis.cluster && hashTagOf(redis.prefix) === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["prefix"],
        message: `"${redis.prefix}" has no {hash tag}: in Redis Cluster every key certrotor writes must share one slot (BullMQ's multi-key scripts fail with CROSSSLOT otherwise); write it as "{${redis.prefix.replace(/[{}]/g, "") || "certrotor"}}"`,
      });
    }
    if (redis.url && (redis.username || redis.password) && /^rediss?:\/\/[^/@]*@/.test(redis.url)) {
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message:
          "the URL carries a user or password and so do redis.username / redis.password: give them once",
      });
    }
    if (redis.url?.startsWith("redis://") && redis.tls) {
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: "redis.tls is set but the URL is redis:// (plain TCP): use rediss:// for TLS",
      });
    }
  });
export type RedisConfig = z.infer<typeof redisSchema>;

// ---------------------------------------------------------------- human tasks

/** Human tasks at portal banks (docs/operations/human-tasks.md): deadlines, reminders, escalation, polling. */
export const tasksSchema = z.strictObject({
  /** A task's deadline is the old certificate's notAfter minus this, so it never expires first. */
  leadTime: duration.default(7 * 86_400_000),
  /** An open task is reminded of this often (an alert each time). */
  remindEvery: positiveDuration.default(86_400_000),
  /** Escalate an open task once its deadline is this close. */
  escalateBefore: duration.default(2 * 86_400_000),
  /** Where the escalation goes: a channel (name under alerts.channels), else every channel of the credential. */
  escalateTo: name.optional(),
  /** First look (a token call with the new certificate) after a rotation parked on a task... */
  pollEvery: positiveDuration.default(30_000),
  /** ...doubling up to this bound. */
  pollMax: positiveDuration.default(15 * 60_000),
});
export type TasksConfig = z.infer<typeof tasksSchema>;

const schedulesSchema = z.strictObject({
  /** cron (6 fields with seconds allowed) of the scan that enqueues due rotations. */
  scan: z.string().default("0 */15 * * * *"),
  /** cron of the retire-due sweep. */
  retire: z.string().default("0 */5 * * * *"),
  timezone: z.string().default("UTC"),
});

export const configSchema = z.strictObject({
  /**
   * Redis, shared by every entry point: the queues, the journal, the locks, the alert episodes. When it is
   * set, every command (worker, rotate, scan, status, retire-due, ...) reads and writes the same state.
   */
  redis: redisSchema.optional(),
  /**
   * Where the journal, locks and alert episodes live: `redis` whenever `redis` is configured, `file`
   * (under `stateDir`) only for single-host use without Redis (`demo`, `rotate --inline` from cron).
   * Derived when absent; a value that contradicts `redis` is refused at load.
   */
  state: z.enum(["redis", "file"]).optional(),
  /** Where the journal, locks and alert episodes live with `state: file`. */
  stateDir: z.string().default(".certrotor/state"),
  stores: z.record(name, storeSchema).default({}),
  banks: z.record(name, bankSchema).default({}),
  issuers: z.record(name, issuerSchema).default({}),
  credentials: z.array(credentialSchema).default([]),
  discovery: z.array(discoverySchema).default([]),
  renewal: renewalSchema.default(renewalSchema.parse({})),
  alerts: alertsSchema.default(alertsSchema.parse({})),
  worker: workerSchema.default(workerSchema.parse({})),
  schedules: schedulesSchema.default(schedulesSchema.parse({})),
  /** The ops console (`certrotor console`, or the worker with console.enabled). */
  console: consoleSchema.default(consoleSchema.parse({})),
  tasks: tasksSchema.default(tasksSchema.parse({})),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default("info"),
    })
    .default({ level: "info" }),
});

export type Config = z.infer<typeof configSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type BankConfig = z.infer<typeof bankSchema>;
export type BankingApiConfig = z.infer<typeof bankingApiBank>;
export type Oauth2MtlsConfig = z.infer<typeof oauth2MtlsBank>;
export type IssuerConfig = z.infer<typeof issuerSchema>;
export type AlertChannelConfig = z.infer<typeof alertChannel>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
export type VaultStoreConfig = z.infer<typeof vaultStore>;
export type AwsStoreConfig = z.infer<typeof awsStore>;
export type FileStoreConfig = z.infer<typeof fileStore>;

/** Where the journal, locks and alert episodes live for this config (load.ts refuses contradictions). */
export function stateKind(config: Pick<Config, "redis" | "state">): "redis" | "file" {
  return config.redis ? "redis" : "file";
}
