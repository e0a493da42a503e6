/**
 * watchCredential: follows one credential's current material, so a consumer can switch certificates when
 * certrotor promotes new material. It polls the cheapest change signal the source has (a store's current
 * version, the files' identity), reads the material only when that moved, and switches only to material
 * that is complete and usable (the key belongs to the certificate, the fingerprint is its own).
 *
 *   const watcher = await watchCredential({ store: config.stores.main, credential: { path: "payments/api" } });
 *   watcher.on("change", ({ previous, current }) => ...);
 *
 * A failed poll (store down, file missing) is reported as "error" and the last good material stays.
 * Unusable material is reported only when the next poll finds it unchanged: a writer that renames a key
 * and then its certificate into place leaves a mismatched pair for a moment, which is not a fault.
 */
import { EventEmitter } from "node:events";
import { CertrotorError, type ErrorCode, toCertrotorError } from "../errors.js";
import type { AdapterLogger } from "../observability/logger.js";
import { type FileSourceOptions, openFileSource } from "./file-source.js";
import { assertUsable } from "./material-check.js";
import type { MaterialSource, Versioned } from "./source.js";
import { openStoreSource, type StoreSourceOptions } from "./store-source.js";

export type { FileSourceOptions } from "./file-source.js";
export type { Versioned } from "./source.js";
export type { StoreEntry, StoreSourceOptions } from "./store-source.js";

/** Structured logger (pino's shape: fields first, then the message); never handed secret values. */
export type ClientLogger = AdapterLogger;

export interface WatchCommonOptions {
  /** Poll interval in ms (default 2,000). */
  everyMs?: number;
  logger?: ClientLogger;
}

/** Follow a credential in a certrotor store (the entry as in certrotor's config `stores.<name>`). */
export type StoreWatchOptions = WatchCommonOptions &
  Omit<StoreSourceOptions, "logger"> & { certFile?: never };
/** Follow plain PEM files (e.g. written by `certrotor agent`). */
export type FileWatchOptions = WatchCommonOptions & FileSourceOptions & { store?: never };
/** A store entry and credential path, or plain files: exactly one of the two. */
export type WatchOptions = StoreWatchOptions | FileWatchOptions;

const watchesStore = (options: WatchOptions): options is StoreWatchOptions => options.store !== undefined;

export interface CredentialChange {
  previous: Versioned;
  current: Versioned;
}

interface WatcherEvents {
  change: [CredentialChange];
  error: [CertrotorError];
}

export const DEFAULT_EVERY_MS = 2_000;

/** Failures that are about the material itself: reported once per version, not re-read until it moves. */
const MATERIAL_CODES = new Set<ErrorCode>([
  "MATERIAL_INVALID",
  "PEM_MALFORMED",
  "PEM_WRONG_KIND",
  "KEY_MISMATCH",
  "KEY_ENCRYPTED",
  "UNSUPPORTED_KEY_TYPE",
]);

export class CredentialWatcher extends EventEmitter<WatcherEvents> {
  private latest: Versioned;
  /** The probe token of the material now held, or of a version refused as unusable. */
  private lastProbe: string;
  /** The probe token of a version found unusable once, reported if the next poll finds it unchanged. */
  private suspectProbe: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  /** Use watchCredential. */
  constructor(
    private readonly source: MaterialSource,
    first: { token: string; read: Versioned },
    private readonly everyMs: number,
    private readonly logger: ClientLogger | undefined,
  ) {
    super();
    this.latest = first.read;
    this.lastProbe = first.token;
    this.schedule();
  }

  /** The material consumers should use now, with its version. */
  current(): Versioned {
    return this.latest;
  }

  /** What the watcher follows (store and path, or files), for messages. */
  get label(): string {
    return this.source.label;
  }

  /** Polls now (outside the schedule), e.g. after the bank refused the certificate; resolves when done. */
  check(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  /** Stops polling and releases the store's connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.polling?.catch(() => undefined);
    await this.source.close();
  }

  private schedule(): void {
    if (this.closed) return;
    // Not unref'd: like a server socket, a watcher keeps its process alive until close().
    this.timer = setTimeout(() => void this.check().finally(() => this.schedule()), this.everyMs);
  }

  private async poll(): Promise<void> {
    let token: string | undefined;
    try {
      token = await this.source.probe();
      if (token === this.lastProbe || this.closed) return;
      const next = await this.source.read();
      assertUsable(next.material, this.source.label);
      this.lastProbe = token;
      if (
        next.version === this.latest.version &&
        next.material.fingerprint === this.latest.material.fingerprint
      ) {
        return;
      }
      const previous = this.latest;
      this.latest = next;
      this.logger?.debug(
        {
          source: this.source.label,
          version: next.version,
          oldFingerprint: previous.material.fingerprint,
          newFingerprint: next.material.fingerprint,
        },
        "credential material changed",
      );
      this.emit("change", { previous, current: next });
    } catch (thrown) {
      const error = toCertrotorError(thrown, "STORE_UNAVAILABLE");
      if (token !== undefined && MATERIAL_CODES.has(error.code)) {
        if (this.suspectProbe !== token) {
          this.suspectProbe = token; // maybe a pair in the middle of being written: look again next poll
          return;
        }
        this.suspectProbe = undefined;
        this.lastProbe = token;
      }
      this.report(error);
    }
  }

  private report(error: CertrotorError): void {
    if (this.closed) return;
    this.logger?.warn(
      { source: this.source.label, code: error.code },
      "credential poll failed; keeping the last good material",
    );
    // An "error" event without a listener would throw out of the timer and kill the consumer.
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

/**
 * Starts following the credential. Resolves once its current material was read and found usable (it
 * rejects with that read's coded error otherwise, having released the store).
 */
export async function watchCredential(options: WatchOptions): Promise<CredentialWatcher> {
  const everyMs = options.everyMs ?? DEFAULT_EVERY_MS;
  if (!Number.isFinite(everyMs) || everyMs < 10) {
    throw new CertrotorError("BAD_ARGUMENT", `certrotor/client: everyMs must be at least 10, not ${everyMs}`);
  }
  const source = watchesStore(options)
    ? await openStoreSource({ ...options, ...(options.logger ? { logger: options.logger } : {}) })
    : openFileSource(options);
  try {
    const token = await source.probe();
    const read = await source.read();
    assertUsable(read.material, source.label);
    return new CredentialWatcher(source, { token, read }, everyMs, options.logger);
  } catch (error) {
    await source.close().catch(() => undefined);
    throw toCertrotorError(error, "STORE_UNAVAILABLE");
  }
}
