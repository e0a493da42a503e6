/** Small helpers shared by the store contract and the store tests. */
import type { Material } from "../../src/stores/types.js";

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects on the first failure. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The body of a PEM block without armor and line breaks (what would leak if a key were echoed). */
function pemBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
}

/** Strings that must never appear in error text or at-rest bytes: key bodies, secrets, passphrases. */
export function secretsOf(...materials: Material[]): string[] {
  const out: string[] = [];
  for (const m of materials) {
    const key = pemBody(m.keyPem);
    // Several 24-character slices: a partial echo (one wrapped PEM line) is caught too.
    for (let i = 0; i + 24 <= key.length; i += 40) out.push(key.slice(i, i + 24));
    for (const value of [m.clientSecret, m.pfxPassphrase, m.pfxBase64?.slice(0, 32)]) {
      if (value) out.push(value);
    }
  }
  return out;
}
