/**
 * A small bounded memo for pure, deterministic parses of the same bytes: one rotation looks at the same
 * certificate in plan, issue, stage and at each mTLS call (the sandbox's peer check too), and at the same
 * key-and-certificate pair in issue and the PFX build. Oldest entry out first; only successes are kept
 * (an error names its caller's `where`).
 */
export class Memo<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string, compute: () => V): V {
    const found = this.peek(key);
    if (found !== undefined) return found;
    const value = compute();
    this.add(key, value);
    return value;
  }

  peek(key: string): V | undefined {
    const found = this.entries.get(key);
    if (found === undefined) return undefined;
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, found);
    return found;
  }

  add(key: string, value: V): void {
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
