/**
 * Living with Secrets Manager's eventual consistency (AWS documents every operation as eventually
 * consistent: a read right after a write may not see it). Two rules, both bounded by the store's
 * `consistencyWindow`:
 *
 * - read your own writes: after this store moved a staging label, a read of that label that contradicts the
 *   move is taken for a stale read and repeated, until it agrees or the window has passed;
 * - confirm before refusing: a read that would make the store refuse (CAS_CONFLICT, PENDING_CONFLICT,
 *   NOT_FOUND of a pending) is repeated until it stops saying so or the window has passed, so a stale read
 *   never becomes a false conflict for the saga. A real conflict is reported once the window is over.
 *
 * Writes need none of this: AWS checks UpdateSecretVersionStage's RemoveFromVersionId and a repeated
 * ClientRequestToken against the latest state.
 */

/** Where a label is known to be after this store's own change: a version id, or null (nowhere). */
type Expected = string | null;

const FIRST_RETRY_MS = 25;
const MAX_RETRY_MS = 400;

export class Consistency {
  private readonly expected = new Map<string, { versionId: Expected; untilMs: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private key(path: string, stage: string): string {
    return `${stage}\n${path}`;
  }

  /** Records that this store just put `stage` on `versionId` (null: took it off) of the secret at `path`. */
  wrote(path: string, stage: string, versionId: Expected): void {
    const now = this.now();
    for (const [key, entry] of this.expected) if (entry.untilMs <= now) this.expected.delete(key);
    if (this.windowMs > 0)
      this.expected.set(this.key(path, stage), { versionId, untilMs: now + this.windowMs });
  }

  /** The version `stage` is known to be on after this store's recent change, or undefined when none is known. */
  expectation(path: string, stage: string): Expected | undefined {
    const entry = this.expected.get(this.key(path, stage));
    if (!entry) return undefined;
    if (entry.untilMs > this.now()) return entry.versionId;
    this.expected.delete(this.key(path, stage));
    return undefined;
  }

  /**
   * Reads until `done` holds or the window has passed, backing off 25 ms doubling to 400 ms; returns the last
   * read. A read that throws ends the wait with that error.
   */
  async settle<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = this.now() + this.windowMs;
    let delay = FIRST_RETRY_MS;
    for (;;) {
      const value = await read();
      const left = deadline - this.now();
      if (done(value) || left <= 0) return value;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}
