/**
 * Contract harness for the file store: a fresh directory per suite, seeding through the store's
 * operator API. `denyAll` returns a second real store instance on the same directory whose calls run
 * without file-system permission, so the refusal comes from the kernel (EACCES), as it would for a
 * worker running under the wrong user: as root (CI) the calls run with the effective uid of `nobody`,
 * otherwise with the directory's mode set to 000 for the duration of each call.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FileStoreConfig, storeSchema } from "../../src/config/schema.js";
import { createFileStore, type FileSecretStore } from "../../src/stores/file.js";
import type { SecretStore } from "../../src/stores/types.js";
import type { StoreHarness } from "../contract/secret-store.contract.js";

const NOBODY = 65534;

export function fileStoreConfig(dir: string, extra: Record<string, unknown> = {}): FileStoreConfig {
  const parsed = storeSchema.parse({ kind: "file", dir, ...extra });
  if (parsed.kind !== "file") throw new Error("expected a file store config");
  return parsed;
}

/** Runs every call of `store` between `enter` and `leave` (both synchronous, so calls cannot overlap them). */
function withoutPermission(store: SecretStore, dir: string): SecretStore {
  const asRoot = process.geteuid?.() === 0;
  const enter = (): void => (asRoot ? process.seteuid!(NOBODY) : undefined);
  const leave = (): void => (asRoot ? process.seteuid!(0) : undefined);
  const call =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (!asRoot) await chmod(dir, 0o000);
      enter();
      try {
        return await fn(...args);
      } finally {
        leave();
        if (!asRoot) await chmod(dir, 0o700);
      }
    };
  return {
    kind: store.kind,
    name: store.name,
    readCurrent: call(store.readCurrent.bind(store)),
    writePending: call(store.writePending.bind(store)),
    readPending: call(store.readPending.bind(store)),
    promote: call(store.promote.bind(store)),
    dropPending: call(store.dropPending.bind(store)),
    readPrevious: call(store.readPrevious.bind(store)),
    list: call(store.list.bind(store)),
    close: () => store.close(),
  };
}

export async function makeFileHarness(
  name = "contract-file",
): Promise<StoreHarness & { store: FileSecretStore }> {
  const root = await mkdtemp(join(tmpdir(), "certrotor-file-store-"));
  const config = fileStoreConfig(join(root, "store"));
  const store = await createFileStore(name, config);
  return {
    store,
    seed: async (ref, material, tags) => {
      await store.putCurrent(ref, material, tags);
    },
    corrupt: async (ref, doc) => {
      await store.putCurrentDocument(ref, doc);
    },
    denyAll: async () => withoutPermission(await createFileStore(`${name}-denied`, config), config.dir),
    cleanup: () => rm(root, { recursive: true, force: true }),
    deniedMessage: /permission denied/,
  };
}
