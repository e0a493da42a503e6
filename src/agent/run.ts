/**
 * `certrotor agent`: keeps a directory of files on a credential's current material, for consumers that
 * are not Node (Vault Agent's template mode, for certrotor's stores). It follows the credential with
 * certrotor/client's watcher (same change signal, same usability checks: a half-written or hand-edited
 * secret is never written out), writes the files (write.ts), then notifies the consumer (notify.ts).
 *
 * Writes are one at a time, in the order changes arrive; a write that fails (disk full) is logged and
 * tried again at the next poll interval, so the directory catches up once it can be written.
 */
import { randomPassphrase } from "../crypto/index.js";
import { type CertrotorError, toCertrotorError } from "../errors.js";
import { ensureWritableDirectory } from "../util/dirs.js";
import {
  type CredentialWatcher,
  DEFAULT_EVERY_MS,
  type WatchOptions,
  watchCredential,
} from "../client/watch.js";
import type { Versioned } from "../client/source.js";
import { AGENT_FILES, agentFiles, pemFiles } from "./files.js";
import type { AgentLogger, Notifier } from "./notify.js";

export type { AgentLogger } from "./notify.js";
import { readIfPresent, removeStaleTemps, type WriteHooks, writeFiles } from "./write.js";

export interface AgentOptions {
  /** The credential's id (messages, the PKCS#12 friendly name). */
  credentialId: string;
  /** Where the material is: the credential's store entry and path (watchCredential's options). */
  watch: WatchOptions;
  dir: string;
  notify?: Notifier;
  logger: AgentLogger;
  hooks?: WriteHooks;
}

export interface RunningAgent {
  /** The material the files hold now. */
  written(): Versioned;
  close(): Promise<void>;
}

/** The passphrase the directory's PKCS#12 has been written with, else a new one. */
async function passphraseOf(dir: string): Promise<{ value: string; isNew: boolean }> {
  const kept = (await readIfPresent(dir, AGENT_FILES.passphrase))?.trim();
  return kept ? { value: kept, isNew: false } : { value: randomPassphrase(), isNew: true };
}

/** Are the files in `dir` those of `material` already (an agent restarted with nothing new)? */
async function upToDate(dir: string, current: Versioned): Promise<boolean> {
  for (const file of pemFiles(current.material)) {
    if ((await readIfPresent(dir, file.name)) !== file.content) return false;
  }
  return (await readIfPresent(dir, AGENT_FILES.pfx)) !== undefined;
}

class Agent implements RunningAgent {
  private onDisk: Versioned | undefined;
  private wanted: Versioned;
  private running: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: AgentOptions,
    private readonly watcher: CredentialWatcher,
  ) {
    this.wanted = watcher.current();
    // listening from the start: a change that lands while the first write runs is queued after it
    watcher.on("change", ({ current }) => {
      this.wanted = current;
      this.follow();
    });
  }

  /** The first sync, whose failure the caller sees (a bad --out ends the agent at start). */
  first(): Promise<void> {
    const sync = this.sync();
    this.running = sync.catch(() => undefined);
    return sync;
  }

  written(): Versioned {
    return this.onDisk ?? this.wanted;
  }

  /** Writes the wanted material unless the files hold it; notifies the consumer when it wrote. */
  async sync(): Promise<void> {
    const wanted = this.wanted;
    if (this.onDisk === wanted) return;
    const { dir, logger } = this.options;
    const { material, version } = wanted;
    const fields = { dir, fingerprint: material.fingerprint, notAfter: material.notAfter, version };
    if (await upToDate(dir, wanted)) {
      // a restart with nothing new, or a change that left the certificate and key as they were
      this.onDisk = wanted;
      logger.info(fields, "certrotor agent: the files already hold the current material");
      return;
    }
    const passphrase = await passphraseOf(dir);
    await writeFiles(
      dir,
      agentFiles(material, passphrase, this.options.credentialId),
      this.options.hooks ?? {},
    );
    this.onDisk = wanted;
    logger.info(fields, "certrotor agent: files written");
    await this.options.notify?.({ fingerprint: material.fingerprint, version });
  }

  /** Queues a sync after the one running; a failed one is logged and tried again after a poll interval. */
  follow(): void {
    this.running = this.running.then(() =>
      this.sync().catch((error: unknown) => {
        const coded: CertrotorError = toCertrotorError(error);
        this.options.logger.warn(
          { dir: this.options.dir, code: coded.code, message: coded.message },
          "certrotor agent: the files could not be written; trying again",
        );
        if (this.closed) return;
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.follow(), this.options.watch.everyMs ?? DEFAULT_EVERY_MS);
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.watcher.close();
    await this.running;
  }
}

async function prepare(options: AgentOptions): Promise<{ agent: Agent }> {
  const watcher = await watchCredential({ ...options.watch, logger: options.logger });
  try {
    await ensureWritableDirectory("--out", options.dir, 0o700);
    const removed = await removeStaleTemps(options.dir);
    if (removed > 0)
      options.logger.info(
        { dir: options.dir, removed },
        "certrotor agent: removed temp files of a killed agent",
      );
    const agent = new Agent(options, watcher);
    await agent.first();
    return { agent };
  } catch (error) {
    await watcher.close();
    throw toCertrotorError(error);
  }
}

/** `--once`: writes the current material (unless the files hold it) and returns. */
export async function writeOnce(options: AgentOptions): Promise<Versioned> {
  const { agent } = await prepare(options);
  await agent.close();
  return agent.written();
}

/** Writes the current material, then keeps the files on it until close(). */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { agent } = await prepare(options);
  return agent;
}
