// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own syntax, shown as written
/**
 * What each config field means, with an example, keyed by its path in the schema (src/config/schema.ts):
 * `stores.<name>.dir`, `credentials[].keyType`; a key may add `@variant` (`stores.<name>.requestTimeout@aws`)
 * where variants of a union mean different things by one name. Types and defaults are not here: the
 * generator reads them from the schema. A field of the schema missing here fails `npm run docs:gen`.
 */
export interface FieldDoc {
  meaning: string;
  /** A YAML example, when the default or the type does not give a useful one. */
  example?: string;
  /** Documented as one row: its fields are another section's (a per-credential `renewal`). */
  whole?: boolean;
}

const ENV = "use `${ENV}`, never the value itself";

export const CONFIG_FIELDS: Record<string, FieldDoc> = {
  // redis: the one shared state
  "redis.url": {
    meaning:
      "a standalone Redis (or a managed primary endpoint), shared by the worker's queues and by the journal, locks and alert episodes of every command. Exactly one of `url`, `cluster`, `sentinel`",
    example: "url: ${REDIS_URL}",
  },
  "redis.cluster": {
    meaning:
      "a Redis Cluster: any reachable nodes; the others (and the owner of certrotor's slot) are discovered, redirects followed, failovers ridden out",
    example: 'cluster: ["redis-0:6379", "redis-1:6379"]',
  },
  "redis.sentinel.sentinels": {
    meaning: "Redis Sentinel: the sentinels asked for the current master (again after a failover)",
    example: 'sentinels: ["sentinel-0:26379"]',
  },
  "redis.sentinel.name": {
    meaning: "the master group name (`sentinel monitor <name> …`)",
    example: "name: certrotor",
  },
  "redis.sentinel.username": {
    meaning: "the sentinels' own ACL user, when they require one",
    example: "username: sentinel",
  },
  "redis.sentinel.password": {
    meaning: `the sentinels' own password (${ENV})`,
    example: "password: ${SENTINEL_PASSWORD}",
  },
  "redis.username": {
    meaning: "ACL user of every data connection (Redis 6+); a user in `url` does the same (not both)",
    example: "username: certrotor",
  },
  "redis.password": {
    meaning: `that user's password, or \`requirepass\` (${ENV}); never logged`,
    example: "password: ${REDIS_PASSWORD}",
  },
  "redis.tls.caFile": {
    meaning:
      "PEM bundle the Redis server certificate must chain to (else the system roots); setting `tls` turns TLS on for `cluster` and `sentinel`; with `url` use `rediss://`. Verification is never switched off",
    example: "caFile: /etc/certrotor/redis-ca.pem",
  },
  "redis.tls.serverName": {
    meaning: "name the server certificate must carry (and SNI), else the host dialled",
    example: "serverName: redis.internal",
  },
  "redis.prefix": {
    meaning:
      "prefix of every key certrotor writes (queues, journal, locks, episodes); the braces are a Cluster hash tag keeping them in one slot (required with `cluster`)",
  },
  "redis.connectTimeout": { meaning: "TCP (and TLS) connect timeout of each connection attempt" },
  "redis.commandTimeout": {
    meaning:
      "a command without an answer this long fails (`REDIS_UNAVAILABLE`); never the workers' blocking reads",
    example: "commandTimeout: 5s",
  },
  "redis.failoverTimeout": {
    meaning:
      "how long a worker's commands wait out a failover (cluster or Sentinel) before failing; 30s when absent",
    example: "failoverTimeout: 30s",
  },
  state: {
    meaning:
      "where the journal, locks and episodes live: `redis` whenever `redis` is set, `file` (under `stateDir`) for one host without Redis. Derived when absent; a contradiction is refused",
  },
  stateDir: { meaning: "journal, lock, episode and task files with `state: file`" },

  // stores
  "stores.<name>.kind": { meaning: "the store adapter", example: "kind: vault" },
  "stores.<name>.dir": { meaning: "directory of the encrypted credential documents (created 0700)" },
  "stores.<name>.keyEnv": {
    meaning:
      "environment variable holding the 32-byte AES-256-GCM key (base64 or 64 hex); wins over `keyFile`",
    example: "keyEnv: CERTROTOR_STORE_KEY",
  },
  "stores.<name>.keyFile": {
    meaning: "file holding the key (mode 0600; created when absent and `dir` is empty); default `<dir>/.key`",
    example: "keyFile: /etc/certrotor/store.key",
  },
  "stores.<name>.maxVersions": { meaning: "earlier current versions kept per credential" },
  "stores.<name>.lockTimeout": {
    meaning: "how long a write waits for another process's lock before `STORE_UNAVAILABLE` (retryable)",
  },
  "stores.<name>.lockLease": {
    meaning: "a lock held longer is taken over (a dead holder on this host at once)",
  },
  "stores.<name>.address": {
    meaning: "Vault's URL: https://, plain http:// only to loopback or with `insecureHttp`",
    example: "address: https://vault.internal:8200",
  },
  "stores.<name>.insecureHttp": {
    meaning: "allow plain http:// to a host that is not loopback (never in production)",
  },
  "stores.<name>.namespace": {
    meaning: "Vault Enterprise namespace (`X-Vault-Namespace`)",
    example: "namespace: payments",
  },
  "stores.<name>.auth.method": { meaning: "how certrotor logs in to Vault", example: "method: approle" },
  "stores.<name>.auth.token": { meaning: `a Vault token (${ENV})`, example: "token: ${VAULT_TOKEN}" },
  "stores.<name>.auth.roleId": { meaning: "AppRole role id", example: "roleId: ${VAULT_ROLE_ID}" },
  "stores.<name>.auth.secretId": {
    meaning: `AppRole secret id (${ENV})`,
    example: "secretId: ${VAULT_SECRET_ID}",
  },
  "stores.<name>.auth.mount": { meaning: "mount of the AppRole auth method" },
  "stores.<name>.caFile": {
    meaning: "PEM bundle trusted for Vault's TLS certificate (verification is never switched off)",
    example: "caFile: /etc/certrotor/vault-ca.pem",
  },
  "stores.<name>.requestTimeout@vault": { meaning: "bound of one Vault request" },
  "stores.<name>.mount": { meaning: "the KV v2 mount" },
  "stores.<name>.pendingSuffix": {
    meaning: "without `pendingPrefix`: pending material lives at the sibling path `<path><pendingSuffix>`",
  },
  "stores.<name>.pendingPrefix": {
    meaning:
      "pending material lives at `<pendingPrefix><path>` instead, so a Vault policy can grant `delete` on pendings only",
    example: "pendingPrefix: certrotor-pending/",
  },
  "stores.<name>.region": { meaning: "AWS region", example: "region: sa-east-1" },
  "stores.<name>.endpoint": {
    meaning: "custom endpoint (LocalStack, the emulator); absent = the real service",
    example: "endpoint: http://127.0.0.1:4566",
  },
  "stores.<name>.credentials.accessKeyId": {
    meaning: "explicit access key; absent `credentials` = the SDK's default chain (env, profile, IMDS, IRSA)",
    example: "accessKeyId: ${AWS_ACCESS_KEY_ID}",
  },
  "stores.<name>.credentials.secretAccessKey": {
    meaning: `its secret (${ENV})`,
    example: "secretAccessKey: ${AWS_SECRET_ACCESS_KEY}",
  },
  "stores.<name>.credentials.sessionToken": {
    meaning: "session token of temporary keys",
    example: "sessionToken: ${AWS_SESSION_TOKEN}",
  },
  "stores.<name>.maxAttempts": {
    meaning: "attempts per call, first included (the SDK retries throttling, 5xx and network errors)",
  },
  "stores.<name>.connectTimeout": {
    meaning: "TCP connect timeout per attempt, so an unreachable endpoint fails fast",
  },
  "stores.<name>.requestTimeout@aws": { meaning: "whole-request timeout per attempt" },
  "stores.<name>.consistencyWindow": {
    meaning:
      "how long a read contradicting the store's own last label change (or that would refuse with `CAS_CONFLICT`/`PENDING_CONFLICT`) is repeated: Secrets Manager is eventually consistent",
  },

  // banks
  "banks.<name>.kind": {
    meaning:
      "`banking-api`: seed 001's token contract and CORE admin (slot) API; `oauth2-mtls`: a standard RFC 6749 token endpoint, no slot API",
    example: "kind: banking-api",
  },
  "banks.<name>.url": { meaning: "base URL of the bank API", example: "url: https://api.bank.example" },
  "banks.<name>.caFile": {
    meaning: "CA bundle the bank's server certificate must chain to (pinning); verification is never off",
    example: "caFile: /etc/certrotor/bank-ca.pem",
  },
  "banks.<name>.tls.minVersion": { meaning: "lowest TLS version of mTLS calls" },
  "banks.<name>.tls.maxVersion": {
    meaning: "highest TLS version (`TLSv1.2` for TLS-1.2-only banks such as seed 002's)",
  },
  "banks.<name>.requestTimeout": { meaning: "bound of one bank request" },
  "banks.<name>.retries": { meaning: "retries for 5xx, resets and timeouts (never for 400/401/403)" },
  "banks.<name>.maxSlots": {
    meaning: "active certificates the bank allows per credential: 2 (rotate with overlap) or 1 (cut-over)",
  },
  "banks.<name>.portalUrl": {
    meaning: "the bank's portal, shown in human tasks",
    example: "portalUrl: https://developers.bank.example",
  },
  "banks.<name>.adminUrl": {
    meaning: "base URL of the certificate-slot admin API; default `url`",
    example: "adminUrl: https://admin.bank.example",
  },
  "banks.<name>.adminApiKey": {
    meaning: `bearer key of the admin API (${ENV})`,
    example: "adminApiKey: ${BANK_ADMIN_KEY}",
  },
  "banks.<name>.registration": {
    meaning:
      "how a new certificate gets bound: `api` through the slot API; `manual` a person in the portal (a human task); `none` the bank trusts the issuing CA. `api` needs kind `banking-api`",
  },
  "banks.<name>.probe.accountId@banking-api": {
    meaning: "verify also calls `GET …/accounts/{accountId}/balance` with the new token",
    example: "accountId: '123'",
  },
  "banks.<name>.tokenPath": {
    meaning: "path of the token endpoint under `url`",
    example: "tokenPath: /oauth/token",
  },
  "banks.<name>.clientAuth": {
    meaning: "`basic`: client_id/client_secret as HTTP Basic (RFC 6749 § 2.3.1); `body`: in the form body",
  },
  "banks.<name>.scope": { meaning: "`scope` of the token request", example: "scope: payments" },
  "banks.<name>.probe.path@oauth2-mtls": {
    meaning: "verify also calls `GET <path>` (`{accountId}` replaced) with the new token",
    example: "path: /accounts/{accountId}/balance",
  },
  "banks.<name>.probe.accountId@oauth2-mtls": {
    meaning: "the account id put into `probe.path`",
    example: "accountId: '123'",
  },

  // issuers
  "issuers.<name>.kind": {
    meaning:
      "who signs the CSR: `local-ca` the institution's own CA (seed 002), `vault-pki` Vault's `sign/<role>`, `bank` the bank's admin API, `bank-portal` a person in the bank's portal (seed 000)",
    example: "kind: local-ca",
  },
  "issuers.<name>.store": { meaning: "store holding the CA's key and certificate", example: "store: files" },
  "issuers.<name>.path": { meaning: "path of the CA material in that store", example: "path: ca/issuing" },
  "issuers.<name>.validity": { meaning: "lifetime of the certificates it signs" },
  "issuers.<name>.address": {
    meaning: "Vault's URL, as for a Vault store",
    example: "address: https://vault.internal:8200",
  },
  "issuers.<name>.insecureHttp": {
    meaning: "allow plain http:// to a host that is not loopback (never in production)",
  },
  "issuers.<name>.namespace": { meaning: "Vault Enterprise namespace", example: "namespace: payments" },
  "issuers.<name>.auth.method": { meaning: "how certrotor logs in to Vault", example: "method: approle" },
  "issuers.<name>.auth.token": { meaning: `a Vault token (${ENV})`, example: "token: ${VAULT_TOKEN}" },
  "issuers.<name>.auth.roleId": { meaning: "AppRole role id", example: "roleId: ${VAULT_ROLE_ID}" },
  "issuers.<name>.auth.secretId": {
    meaning: `AppRole secret id (${ENV})`,
    example: "secretId: ${VAULT_SECRET_ID}",
  },
  "issuers.<name>.auth.mount": { meaning: "mount of the AppRole auth method" },
  "issuers.<name>.caFile@vault-pki": {
    meaning: "PEM bundle trusted for Vault's TLS certificate",
    example: "caFile: /etc/certrotor/vault-ca.pem",
  },
  "issuers.<name>.requestTimeout": { meaning: "bound of one Vault request" },
  "issuers.<name>.mount": { meaning: "the PKI mount: certrotor calls `POST <mount>/sign/<role>`" },
  "issuers.<name>.role": {
    meaning: "the PKI role that signs client certificates",
    example: "role: bank-client",
  },
  "issuers.<name>.ttl": { meaning: "lifetime asked of Vault; absent = the role's ttl", example: "ttl: 90d" },
  "issuers.<name>.bank@bank": {
    meaning: "the bank (a `banking-api` name under `banks`) whose CA signs the CSR through its admin API",
    example: "bank: bank-a",
  },
  "issuers.<name>.caFile@bank": {
    meaning:
      "PEM of the bank's issuing CA, where the bank publishes it: `certrotor import` checks an existing certificate against it; absent = import proves the certificate by the token call alone",
    example: "caFile: /etc/certrotor/bank-a-issuing-ca.pem",
  },
  "issuers.<name>.bank@bank-portal": {
    meaning: "the bank whose portal signs: a `sign-csr` human task carries the CSR",
    example: "bank: bank-b",
  },
  "issuers.<name>.caFile@bank-portal": {
    meaning: "PEM of the bank's issuing CA: the certificate handed back must chain to it",
    example: "caFile: /etc/certrotor/bank-b-issuing-ca.pem",
  },

  // credentials and discovery
  "credentials[].id": {
    meaning:
      "certrotor's name for the credential (letters, digits, `.`, `_`, `-`): metric label, CLI argument",
    example: "id: payments-prod",
  },
  "credentials[].clientId": { meaning: "the bank's `client_id`", example: 'clientId: "9f3c0d7e-payments"' },
  "credentials[].bank": { meaning: "a name under `banks`", example: "bank: bank-a" },
  "credentials[].store": { meaning: "a name under `stores`", example: "store: vault" },
  "credentials[].path": {
    meaning: "location in the store (Vault KV path, AWS secret name, file-store key); default the id",
    example: "path: bank-a/payments-prod",
  },
  "credentials[].issuer": { meaning: "a name under `issuers`", example: "issuer: own-ca" },
  "credentials[].keyType": { meaning: "type of each new private key" },
  "credentials[].pfx": {
    meaning:
      "also store a PKCS#12 (AES-256, PBKDF2-HMAC-SHA256) and its passphrase for consumers that read PFX",
  },
  "credentials[].fields": {
    meaning:
      "consumer-visible names of the stored fields (`clientId`, `clientSecret`, `certPem`, `chainPem`, `keyPem`, `pfxBase64`, `pfxPassphrase`, `fingerprint`, `notAfter`, `rotationId`), so apps keep the keys they already read",
    example: "fields: { certPem: tls.crt, keyPem: tls.key }",
    whole: true,
  },
  "credentials[].renewal": {
    meaning: "overrides single fields of the top-level `renewal` for this credential",
    example: "renewal: { renewBefore: 30d }",
    whole: true,
  },
  "credentials[].alerts": {
    meaning: "names under `alerts.channels` this credential's alerts go to; absent = every channel",
    example: "alerts: [oncall, ops-slack]",
  },
  "discovery[].store": { meaning: "the store to list", example: "store: vault" },
  "discovery[].prefix": { meaning: "list only paths under this prefix", example: "prefix: banks/acme/" },
  "discovery[].tag.key": {
    meaning: "list only secrets carrying this tag (Vault custom_metadata, AWS tags)",
    example: "key: certrotor",
  },
  "discovery[].tag.value": { meaning: "…with this value (absent: any value)", example: "value: managed" },
  "discovery[].bank": { meaning: "the bank of every discovered credential", example: "bank: bank-a" },
  "discovery[].issuer": { meaning: "the issuer of every discovered credential", example: "issuer: own-ca" },
  "discovery[].keyType": { meaning: "as `credentials[].keyType`" },
  "discovery[].pfx": { meaning: "as `credentials[].pfx`" },
  "discovery[].fields": {
    meaning: "as `credentials[].fields`",
    whole: true,
    example: "fields: { certPem: tls.crt }",
  },
  "discovery[].renewal": {
    meaning: "as `credentials[].renewal`",
    whole: true,
    example: "renewal: { gracePeriod: 1h }",
  },

  // renewal
  "renewal.renewBefore": { meaning: "renew this long before notAfter…", example: "renewBefore: 30d" },
  "renewal.renewAtFraction": {
    meaning: "…or once this fraction of the lifetime has passed, whichever comes first",
  },
  "renewal.jitter": {
    meaning: "deterministic random delay per credential, so a fleet does not rotate in one minute",
  },
  "renewal.window.cron": {
    meaning:
      "scheduled rotations start only in minutes matching this cron pattern (a preference: never lets a certificate expire)",
    example: 'cron: "* 9-16 * * 1-5"',
  },
  "renewal.window.timezone": {
    meaning: "time zone of the window's pattern",
    example: "timezone: America/Sao_Paulo",
  },
  "renewal.gracePeriod": {
    meaning: "wait after promote before the old certificate is unbound, so consumers reload",
  },
  "renewal.idleBeforeRetire": {
    meaning: "where the bank reports last use: the old certificate must also have been idle this long",
  },
  "renewal.maxRetireWait": {
    meaning:
      "past this (after the grace period) the old certificate stays bound and `CONSUMERS_ON_OLD_CERT` is raised",
  },
  "renewal.unbindStaleOwnCerts": {
    meaning:
      "may unbind a certificate certrotor issued earlier that is neither current nor pending, to free a slot",
  },
  "renewal.attempts": { meaning: "attempts per rotation before it is rolled back and alerted" },
  "renewal.backoff": { meaning: "first delay between attempts (exponential, shortened near expiry)" },
  "renewal.backoffMax": { meaning: "cap of that delay" },

  // alerts
  "alerts.channels.<name>.kind": {
    meaning:
      "the channel: one structured log line, a signed webhook, Slack, PagerDuty Events v2, or SMTP mail",
    example: "kind: pagerduty",
  },
  "alerts.channels.<name>.url@webhook": {
    meaning: "where the signed JSON is POSTed",
    example: "url: https://ops.example.com/hooks/certrotor",
  },
  "alerts.channels.<name>.secret": {
    meaning: `HMAC-SHA256 key of the \`X-Certrotor-Signature\` header, 16 characters or more (${ENV})`,
    example: "secret: ${CERTROTOR_WEBHOOK_SECRET}",
  },
  "alerts.channels.<name>.caFile": {
    meaning: "PEM bundle the receiver's certificate must chain to; absent = Node's default roots",
    example: "caFile: /etc/certrotor/hooks-ca.pem",
  },
  "alerts.channels.<name>.insecureHttp": {
    meaning: "allow plain http:// to a host that is not loopback (never in production)",
  },
  "alerts.channels.<name>.url@slack": {
    meaning: "the Slack incoming-webhook URL; the URL itself is the secret (use `${ENV}`)",
    example: "url: ${SLACK_WEBHOOK_URL}",
  },
  "alerts.channels.<name>.routingKey": {
    meaning: `the Events API v2 integration (routing) key (${ENV})`,
    example: "routingKey: ${PAGERDUTY_ROUTING_KEY}",
  },
  "alerts.channels.<name>.url@pagerduty": {
    meaning: "the Events API endpoint (EU: `https://events.eu.pagerduty.com/v2/enqueue`)",
  },
  "alerts.channels.<name>.host": { meaning: "SMTP server", example: "host: smtp.example.com" },
  "alerts.channels.<name>.port": { meaning: "SMTP port" },
  "alerts.channels.<name>.secure": { meaning: "TLS from the first byte (port 465); otherwise STARTTLS" },
  "alerts.channels.<name>.requireTLS": {
    meaning:
      "send nothing (above all no AUTH) unless STARTTLS upgraded the session; `false` needs `insecure: true`",
  },
  "alerts.channels.<name>.insecure": { meaning: "allow a plain-text SMTP session, explicitly" },
  "alerts.channels.<name>.caFile@email": {
    meaning: "PEM bundle trusted for the SMTP server's certificate (verification is never switched off)",
    example: "caFile: /etc/certrotor/smtp-ca.pem",
  },
  "alerts.channels.<name>.user": { meaning: "SMTP user", example: "user: certrotor@example.com" },
  "alerts.channels.<name>.password": {
    meaning: `SMTP password (${ENV})`,
    example: "password: ${SMTP_PASSWORD}",
  },
  "alerts.channels.<name>.from": { meaning: "sender address", example: "from: certrotor@example.com" },
  "alerts.channels.<name>.to": { meaning: "recipients", example: "to: [ops@example.com]" },
  "alerts.criticalWindow": {
    meaning: "a certificate this close to expiry and not rotated yet raises `critical-window`",
  },
  "alerts.stuckAfter": {
    meaning: "a rotation in one step this long raises `rotation-stuck` (and shows as drift in `scan`)",
  },
  "alerts.overdueAfter": {
    meaning: "a renewal time passed this long ago without a successful rotation raises `rotation-overdue`",
  },
  "alerts.notifyOnSuccess": { meaning: "also send a `rotation-succeeded` notice (never to PagerDuty)" },
  "alerts.timeout": { meaning: "bound of one delivery to one channel (connect + answer)" },
  "alerts.deliveryAttempts": {
    meaning: "attempts per alert, first included; a channel that accepted it is not sent it again",
  },
  "alerts.deliveryBackoff": { meaning: "first retry delay, doubling (8 attempts ≈ 10 min)" },

  // worker and schedules
  "worker.concurrency": { meaning: "rotations in parallel per worker process" },
  "worker.port": {
    meaning: "port of `/healthz`, `/readyz`, `/metrics` (`--port` overrides; 0 = a free port)",
  },
  "worker.host": { meaning: "address the health/metrics server binds to" },
  "worker.shutdownTimeout": {
    meaning: "bound of a graceful shutdown: running steps finish or are released to another worker",
  },
  "worker.startupTimeout": {
    meaning: "how long a starting worker waits for Redis before it exits with `REDIS_UNAVAILABLE`",
  },
  "worker.jobLockDuration": {
    meaning: "a job whose worker stopped renewing its lock this long is stalled and taken over",
  },
  "worker.rotationLease": {
    meaning:
      "lease of the per-credential rotation lock, renewed every third of it; a killed worker's rotations resume within max(`jobLockDuration`, `rotationLease`) + 5 s",
  },
  "schedules.scan": { meaning: "cron (a seconds field allowed) of the scan that enqueues due rotations" },
  "schedules.retire": { meaning: "cron of the retire-due sweep" },
  "schedules.timezone": { meaning: "time zone of the schedules" },

  // console
  "console.enabled": { meaning: "the worker also serves the console (on `console.port`)" },
  "console.port": { meaning: "console port (`--port` overrides)" },
  "console.host": {
    meaning: "console address; a host that is not loopback needs `console.tls` (or `insecureHttp`)",
  },
  "console.sessionTtl": { meaning: "a session ends this long after login" },
  "console.refresh": { meaning: "the fleet view is rebuilt from the stores and banks when older than this" },
  "console.loginAttemptsPerMinute": { meaning: "login attempts allowed per client address and minute" },
  "console.tls.certFile": {
    meaning: "serve HTTPS with this certificate (PEM)",
    example: "certFile: /etc/certrotor/console.pem",
  },
  "console.tls.keyFile": { meaning: "…and this key (PEM)", example: "keyFile: /etc/certrotor/console.key" },
  "console.secureCookies": {
    meaning: "mark cookies Secure without `console.tls` (behind a TLS-terminating proxy)",
  },
  "console.insecureHttp": {
    meaning: "serve plain HTTP on a host that is not loopback (never in production)",
  },
  "console.users[].name": {
    meaning: "the operator's name: the audit actor of what they do",
    example: "name: alice",
  },
  "console.users[].role": {
    meaning: "`viewer` reads everything; `operator` also rotates, retries, rolls back",
  },
  "console.users[].passwordHash": {
    meaning: "`scrypt$N$r$p$salt$hash` from `certrotor console hash-password` (never a plain password)",
    example: "passwordHash: ${ALICE_PASSWORD_HASH}",
  },

  // human tasks
  "tasks.leadTime": {
    meaning:
      "a task's deadline is the old certificate's notAfter minus this, so the old one never expires first",
  },
  "tasks.remindEvery": { meaning: "an open task is reminded (alert `manual-task-reminder`) this often" },
  "tasks.escalateBefore": {
    meaning: "once the deadline is this close the task is escalated once (critical)",
  },
  "tasks.escalateTo": {
    meaning: "the channel the escalation goes to; absent = the credential's channels",
    example: "escalateTo: oncall",
  },
  "tasks.pollEvery": {
    meaning: "a rotation parked on a task looks again (a token call) after this…",
  },
  "tasks.pollMax": { meaning: "…doubling per look up to this bound" },

  "log.level": { meaning: "log level (`--log-level` overrides)" },
};
