/**
 * One worker thread for PFX keys (kdf-worker.ts), started on first use and kept while the process lives.
 * It never holds the process open: nobody has to wait for it (pkcs12-keys.ts derives what is not ready),
 * so a one-shot command exits when its work is done. A worker that cannot start or dies fails what it
 * was asked and is started again on the next call; after three such losses the process stops trying
 * (a thread that cannot start here would cost a start at every rotation) and every caller derives itself.
 *
 * The keys come back through a SharedArrayBuffer per request, not in a message: a rotation's steps from
 * keygen to stage run without returning to the event loop, which would deliver a message only after the
 * build that wanted it. The reply message only settles the request's promise.
 */
import { Worker } from "node:worker_threads";
import type { MacDigest } from "./pkcs12-pbe.js";

/** A request's state word: the worker stores ready or failed once, after writing the keys. */
export const STATE = { pending: 0, ready: 1, failed: 2 } as const;
/** Where the keys start in the shared buffer (after the state word), and each one's size (AES-256, SHA-256). */
export const KEYS_AT = 4;
export const KEY_SIZE = 32;

export interface KdfRequest {
  id: number;
  passphrase: string;
  keyBagSalt: Uint8Array;
  certSafeSalt: Uint8Array;
  macSalt: Uint8Array;
  iterations: number;
  digest: MacDigest;
  shared: SharedArrayBuffer;
}

export type KdfReply = { id: number } | { id: number; error: string };

/** The three keys of one request, in order: key bag, certificate safe, MAC. */
export interface DerivedKeys {
  keyBag: Buffer;
  certSafe: Buffer;
  mac: Buffer;
}

/** A derivation handed to the thread. */
export interface OffThread {
  /** The keys if the thread has written them, read without waiting; undefined otherwise. */
  poll(): DerivedKeys | undefined;
  /** Settles when the thread answered: true with the keys written, false when it failed or was lost. */
  readonly settled: Promise<boolean>;
}

let worker: Worker | undefined;
/** Workers lost so far (failed to start, crashed, exited); at MAX_LOSSES no more are started. */
let losses = 0;
const MAX_LOSSES = 3;
let nextId = 1;
const waiting = new Map<number, (ok: boolean) => void>();

/**
 * From the sources (tsx) the worker is the .ts file, and Node 20 applies no loader hooks to a worker's
 * entry, not even with `--import tsx` handed down: a two-line bootstrap registers tsx and imports it.
 */
function spawn(): Worker {
  let started: Worker;
  if (import.meta.url.endsWith(".ts")) {
    const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
    const entry = JSON.stringify(new URL("./kdf-worker.ts", import.meta.url).href);
    const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
    started = new Worker(bootstrap, { eval: true });
  } else started = new Worker(new URL("./kdf-worker.js", import.meta.url));
  const lost = (): void => {
    if (worker === started) {
      worker = undefined;
      losses++;
    }
    for (const [id, settle] of waiting) {
      waiting.delete(id);
      settle(false);
    }
  };
  started.on("message", (reply: KdfReply) => {
    const settle = waiting.get(reply.id);
    waiting.delete(reply.id);
    settle?.(!("error" in reply));
  });
  started.on("error", lost);
  started.on("exit", lost);
  started.unref(); // after the listeners: adding one refs the worker again
  return started;
}

/** Asks the thread for the keys of `passphrase` with the given salts. */
export function deriveOffThread(request: Omit<KdfRequest, "id" | "shared">): OffThread {
  const shared = new SharedArrayBuffer(KEYS_AT + 3 * KEY_SIZE);
  const state = new Int32Array(shared, 0, 1);
  const id = nextId++;
  const settled = new Promise<boolean>((settle) => {
    try {
      if (losses >= MAX_LOSSES) throw new Error("the KDF thread was lost too often");
      worker ??= spawn();
      waiting.set(id, settle);
      worker.postMessage({ ...request, id, shared } satisfies KdfRequest);
    } catch {
      waiting.delete(id);
      settle(false);
    }
  });
  let taken: DerivedKeys | undefined;
  return {
    settled,
    poll() {
      if (taken) return taken;
      if (Atomics.load(state, 0) !== STATE.ready) return undefined;
      const bytes = new Uint8Array(shared, KEYS_AT, 3 * KEY_SIZE);
      const at = (i: number): Buffer => Buffer.from(bytes.slice(i * KEY_SIZE, (i + 1) * KEY_SIZE));
      taken = { keyBag: at(0), certSafe: at(1), mac: at(2) };
      bytes.fill(0); // the copies are the only ones left
      return taken;
    },
  };
}
