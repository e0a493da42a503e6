/**
 * `promise`, or `fallback` once `ms` passed without an answer (the promise keeps running; its late
 * result or rejection is dropped). For answers that must come quickly whatever a dependency does:
 * a Redis that accepts connections but never replies must not hang /metrics or /readyz.
 */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  promise.catch(() => undefined); // a rejection after the fallback won is not an unhandled one
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
