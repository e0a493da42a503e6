/**
 * The emulator's state: secrets, their versions and staging labels, and the rules that hold across
 * operations (a label sits on at most one version; moving AWSCURRENT moves AWSPREVIOUS to the version it left;
 * unlabelled versions beyond 100 are pruned; secrets past their recovery window disappear).
 */
import { randomBytes } from "node:crypto";
import { MARKED_FOR_DELETION, invalidRequest, notFound } from "./errors.js";

export const CURRENT = "AWSCURRENT";
export const PREVIOUS = "AWSPREVIOUS";
export const PENDING = "AWSPENDING";

export interface Version {
  id: string;
  string?: string;
  /** Base64, exactly as received. */
  binary?: string;
  stages: Set<string>;
  created: number;
  accessed?: number;
}

export interface Secret {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: Map<string, string>;
  /** In creation order. */
  versions: Map<string, Version>;
  created: number;
  changed: number;
  accessed?: number;
  /** When DeleteSecret scheduled the deletion (DeletedDate). */
  deletedAt?: number;
  /** When the secret goes for good (DeletionDate). */
  deletionDate?: number;
}

/** AWS timestamps are epoch seconds as JSON numbers, with millisecond fraction. */
export const epochSeconds = (ms: number): number => ms / 1000;

/** LastAccessedDate has day resolution: midnight UTC. */
export const startOfDay = (ms: number): number => Math.floor(ms / 86_400_000) * 86_400_000;

/** Labels as AWS lists them (the AWS-validated snapshots show them sorted). */
export const sortedStages = (version: Version): string[] => [...version.stages].sort();

export function holderOf(secret: Secret, label: string): Version | undefined {
  for (const version of secret.versions.values()) if (version.stages.has(label)) return version;
  return undefined;
}

/** Puts `label` on `version`, taking it off wherever it was; AWSCURRENT drags AWSPREVIOUS behind it. */
export function attachLabel(secret: Secret, version: Version, label: string): void {
  const holder = holderOf(secret, label);
  if (holder === version) return;
  holder?.stages.delete(label);
  version.stages.add(label);
  if (label === CURRENT && holder !== undefined) {
    holderOf(secret, PREVIOUS)?.stages.delete(PREVIOUS);
    holder.stages.add(PREVIOUS);
  }
}

/** "Secrets Manager removes unlabeled versions when there are more than 100, but it does not remove versions
 * created less than 24 hours ago" (API_PutSecretValue). */
export function prune(secret: Secret, now: number, retainMs: number): void {
  for (const version of [...secret.versions.values()]) {
    if (secret.versions.size <= 100) return;
    if (version.stages.size === 0 && now - version.created >= retainMs) secret.versions.delete(version.id);
  }
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomSuffix(length = 6): string {
  return [...randomBytes(length)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("");
}

export interface StoreOptions {
  region: string;
  accountId: string;
  now: () => number;
  /** Unlabelled versions younger than this are never pruned (AWS: 24 hours). */
  retainUnlabelledMs: number;
}

/** A secret as it was before its last write (undefined: it did not exist), and when that write happened. */
export interface LastWrite {
  at: number;
  before: Secret | undefined;
}

function cloneSecret(secret: Secret): Secret {
  return {
    ...secret,
    tags: new Map(secret.tags),
    versions: new Map(
      [...secret.versions].map(([id, version]) => [id, { ...version, stages: new Set(version.stages) }]),
    ),
  };
}

export class SecretStoreState {
  readonly secrets = new Map<string, Secret>();
  /** By secret name: the state before the most recent write, for stale reads. */
  readonly lastWrites = new Map<string, LastWrite>();

  constructor(readonly options: StoreOptions) {}

  /** `secretId`'s state before a write that is about to happen (CreateSecret names a new one). */
  snapshot(secretId: string | undefined): { name: string; before: Secret | undefined } | undefined {
    if (secretId === undefined) return undefined;
    const secret = this.lookup(secretId);
    return { name: secret?.name ?? secretId, before: secret && cloneSecret(secret) };
  }

  /** The write the snapshot was taken for succeeded: reads may see the snapshot for a while. */
  wrote(snapshot: { name: string; before: Secret | undefined } | undefined): void {
    if (snapshot) this.lastWrites.set(snapshot.name, { at: this.now(), before: snapshot.before });
  }

  /**
   * The state a read sees: each secret written less than the stale window ago may be replaced by its state
   * before that write (`stale(ageMs)` decides, per secret). Reads through it never change the real state.
   */
  readView(stale: (ageMs: number) => boolean, windowMs: number): SecretStoreState {
    const now = this.now();
    const view = new SecretStoreState(this.options);
    for (const [name, secret] of this.secrets) view.secrets.set(name, secret);
    for (const [name, write] of this.lastWrites) {
      const age = now - write.at;
      if (age >= windowMs) {
        this.lastWrites.delete(name);
        continue;
      }
      if (!stale(age)) continue;
      if (write.before === undefined) view.secrets.delete(name);
      else view.secrets.set(name, cloneSecret(write.before));
    }
    return view;
  }

  /** Milliseconds until no read can be stale any more (0 when none can). */
  staleForMs(windowMs: number, name?: string): number {
    const now = this.now();
    let latest = Number.NEGATIVE_INFINITY;
    for (const [secret, write] of this.lastWrites)
      if (name === undefined || secret === name) latest = Math.max(latest, write.at);
    return Math.max(0, latest + windowMs - now);
  }

  now(): number {
    return this.options.now();
  }

  /** ARN without the random suffix: what IAM evaluates for a name that does not exist yet. */
  partialArn(name: string): string {
    return `arn:aws:secretsmanager:${this.options.region}:${this.options.accountId}:secret:${name}`;
  }

  newArn(name: string): string {
    return `${this.partialArn(name)}-${randomSuffix()}`;
  }

  /** Drops secrets whose recovery window has passed. */
  purge(): void {
    const now = this.now();
    for (const [name, secret] of this.secrets) {
      if (secret.deletionDate !== undefined && secret.deletionDate <= now) this.secrets.delete(name);
    }
  }

  /** Name, full ARN or partial ARN (without the 6 random characters), as the service accepts. */
  lookup(secretId: string): Secret | undefined {
    this.purge();
    const byName = this.secrets.get(secretId);
    if (byName !== undefined) return byName;
    for (const secret of this.secrets.values()) {
      if (secret.arn === secretId || this.partialArn(secret.name) === secretId) return secret;
    }
    return undefined;
  }

  find(secretId: string): Secret {
    const secret = this.lookup(secretId);
    if (secret === undefined) throw notFound();
    return secret;
  }

  /** A secret that must not be scheduled for deletion. */
  findLive(secretId: string): Secret {
    const secret = this.find(secretId);
    if (secret.deletedAt !== undefined) throw invalidRequest(MARKED_FOR_DELETION);
    return secret;
  }

  /** The ARN a request about `secretId` is evaluated against (for AccessDenied messages). */
  resourceArn(secretId: string | undefined): string {
    if (secretId === undefined) return "*";
    return this.lookup(secretId)?.arn ?? (secretId.startsWith("arn:") ? secretId : this.partialArn(secretId));
  }
}
